"""Keras Tuner on the project's one training path, with every trial an MLflow child run.

- `SpecHyperModel` turns `hp` into a ModelSpec, trains and records it with `train_and_record`, like every
  stage's candidate (no second loop): each trial is one MLflow run under the tuning stage run.
- `WinnerFirst` (tuning.compat) makes the first trial of a search the incoming winner (the space's defaults).
- `TrackedTrials` gives the hypermodel each trial's id and retries an interrupted trial with one run. A trial's
  run opens when its training starts: a trial whose model cannot even be built leaves no run, only the
  tuner's own record of the failed trial.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import keras_tuner as kt

from training.config import Selection
from training.data.split import Split
from training.model.build import build_model, train_steps
from training.model.spec import ModelSpec
from training.tracking.candidates import train_and_record
from training.tracking.queries import delete_children
from training.tracking.runs import Tracker
from tuning.compat import LightBuild, WinnerFirst
from tuning.space import spec_from_hp


@dataclass(frozen=True)
class Budget:
    """How much a search may spend: Hyperband's max epochs per model, or the other tuners' trial count."""

    max_epochs: int
    factor: int = 3
    hyperband_iterations: int = 1
    max_trials: int = 10


BUDGETS = {
    "quick": Budget(max_epochs=3, max_trials=3),
    "standard": Budget(max_epochs=20, max_trials=8),
    "full": Budget(max_epochs=100, hyperband_iterations=2, max_trials=40),
}


def scaled(budget: Budget, scale: float) -> Budget:
    """A share of a budget (the adaptive strategy's search_scale): fewer trials, or shorter Hyperband brackets,
    never below two of either."""
    if scale >= 1.0:
        return budget
    return replace(budget, max_epochs=max(2, round(budget.max_epochs * scale)),
                   max_trials=max(2, round(budget.max_trials * scale)))


class SpecHyperModel(kt.HyperModel):
    """hp -> spec -> the same builder, fit and record as every other stage's candidate."""

    def __init__(self, base: ModelSpec, split: Split, selection: Selection, seed: int, tracker: Tracker,
                 stage_run_id: str, centred: bool = False):
        super().__init__(name="spec")
        self.base, self.split, self.selection, self.seed = base, split, selection, seed
        self.centred = centred  # the space around the base (tuning.space.centred_spec_from_hp)
        self.tracker, self.stage_run_id = tracker, stage_run_id
        # The trial being run and its params as drawn, before building adds values: set by TrackedTrials.
        self.trial_id: str | None = None
        self.trial_params: dict = {}

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        keras.utils.set_random_seed(self.seed)
        spec = spec_from_hp(hp, self.base, self.centred)
        return build_model(spec, self.split.input_shape, self.split.task, self.split.n_classes, seed=self.seed,
                           target_scale=self.split.target_scale, steps=train_steps(self.split.rows["train"], spec))

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, callbacks=None, epochs=None,
            initial_epoch: int = 0, **kwargs) -> dict[str, float]:
        """Train the trial's model as a run of its own under the tuning stage run (curves, score, diagnosis)."""
        spec = spec_from_hp(hp, self.base, self.centred)
        if epochs is not None:  # Hyperband's budget for this round
            spec = replace(spec, epochs=int(epochs))
        name = f"trial-{self.trial_id}"
        tags = {"stage": "tuning", "kind": "trial", "tuning.trial_id": self.trial_id, "variant": name}
        recorded = train_and_record(self.tracker, self.stage_run_id, name, tags, spec, self.split, self.selection,
                                    seed=self.seed, params=self.trial_params, model=model,
                                    initial_epoch=int(initial_epoch), callbacks=list(callbacks or []),
                                    keep_model=False)
        # The score of the model as trained, like every other candidate (not its best epoch's).
        return {self.selection.metric: recorded.result.score}


class WinnerFirstHyperbandOracle(WinnerFirst, kt.oracles.HyperbandOracle):
    pass


class WinnerFirstRandomSearchOracle(WinnerFirst, kt.oracles.RandomSearchOracle):
    pass


class WinnerFirstBayesianOracle(WinnerFirst, kt.oracles.BayesianOptimizationOracle):
    pass


class TrackedTrials(LightBuild):
    """Tuner mixin: each trial is one run under the tuning stage run (the hypermodel records it)."""

    hypermodel: SpecHyperModel

    def run_trial(self, trial, *args, **kwargs):
        # A trial interrupted in an earlier attempt is retried by Keras Tuner under the same id; its
        # unfinished MLflow run is removed so that each trial has exactly one run.
        delete_children(self.hypermodel.tracker, self.hypermodel.stage_run_id, {"tuning.trial_id": trial.trial_id},
                        unfinished_only=True)
        drawn = trial.hyperparameters
        self.hypermodel.trial_id = trial.trial_id
        self.hypermodel.trial_params = {**spec_from_hp(drawn.copy(), self.hypermodel.base,
                                                                 self.hypermodel.centred).params(), **drawn.values}
        with warnings.catch_warnings():
            # Hyperband continues a trial from the previous round's weights into a fresh optimizer: Keras
            # warns that it skips the saved optimizer state, which is exactly what is meant.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return super().run_trial(trial, *args, **kwargs)


class TrackedHyperband(TrackedTrials, kt.Hyperband):
    def __init__(self, oracle, **kwargs):
        kt.Tuner.__init__(self, oracle=oracle, **kwargs)  # Hyperband.__init__ would make its own oracle


class TrackedRandomSearch(TrackedTrials, kt.RandomSearch):
    def __init__(self, oracle, **kwargs):
        kt.Tuner.__init__(self, oracle=oracle, **kwargs)


class TrackedBayesianOptimization(TrackedTrials, kt.BayesianOptimization):
    def __init__(self, oracle, **kwargs):
        kt.Tuner.__init__(self, oracle=oracle, **kwargs)


def make_tuner(kind: str, hypermodel: SpecHyperModel, budget: Budget, directory: Path, seed: int) -> kt.Tuner:
    """A tracked tuner whose project lives in `directory` (an existing one is resumed, not overwritten)."""
    objective = kt.Objective(hypermodel.selection.metric, hypermodel.selection.direction)
    if kind == "hyperband":
        oracle = WinnerFirstHyperbandOracle(objective=objective, max_epochs=budget.max_epochs, factor=budget.factor,
                                            hyperband_iterations=budget.hyperband_iterations, seed=seed)
        tuner_class = TrackedHyperband
    elif kind == "random":
        oracle = WinnerFirstRandomSearchOracle(objective=objective, max_trials=budget.max_trials, seed=seed)
        tuner_class = TrackedRandomSearch
    elif kind == "bayesian":
        oracle = WinnerFirstBayesianOracle(objective=objective, max_trials=budget.max_trials, seed=seed)
        tuner_class = TrackedBayesianOptimization
    else:
        raise ValueError(f"unknown tuner {kind!r}; choose hyperband, random or bayesian")
    return tuner_class(oracle=oracle, hypermodel=hypermodel, directory=str(directory.parent),
                       project_name=directory.name, overwrite=False)


@dataclass
class SearchSummary:
    trials: int
    epochs: int
    best_values: dict
    best_spec: ModelSpec
    best_score: float
    scores: list[tuple[str, float]]  # (trial id, score) in the order the trials ran


def summarize(tuner: kt.Tuner, base: ModelSpec) -> SearchSummary:
    oracle = tuner.oracle
    finished = [oracle.trials[t] for t in oracle.end_order if oracle.trials[t].status == "COMPLETED"]
    if not finished:
        raise RuntimeError("the search finished no trial; see the tuning stage's failed trial runs")
    best = oracle.get_best_trials(1)[0]
    epochs = sum(int(t.hyperparameters.values.get("tuner/epochs", base.epochs))
                 - int(t.hyperparameters.values.get("tuner/initial_epoch", 0)) for t in finished)
    return SearchSummary(
        trials=len(finished), epochs=epochs, best_values=dict(best.hyperparameters.values),
        best_spec=spec_from_hp(best.hyperparameters.copy(), base, tuner.hypermodel.centred),
        best_score=float(best.score),
        scores=[(t.trial_id, float(t.score)) for t in finished],
    )


def tracked_tuner(kind: str, base: ModelSpec, split: Split, selection: Selection, budget: Budget,
                  directory: Path, tracker: Tracker, stage_run_id: str, seed: int, centred: bool = False) -> kt.Tuner:
    """The tracked tuner of a search from `base` on the one fit path, its project in `directory`; `centred`:
    the search space around `base` (tuning.space)."""
    return make_tuner(kind, SpecHyperModel(base, split, selection, seed, tracker, stage_run_id, centred), budget,
                      directory, seed)


def run_search(kind: str, base: ModelSpec, split: Split, selection: Selection, budget: Budget, directory: Path,
               tracker: Tracker, stage_run_id: str, seed: int, centred: bool = False) -> SearchSummary:
    """Search (or continue an interrupted search in `directory`) and summarize it."""
    tuner = tracked_tuner(kind, base, split, selection, budget, directory, tracker, stage_run_id, seed, centred)
    tuner.search(verbose=0)
    return summarize(tuner, base)
