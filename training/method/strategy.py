"""How a stage picks what to train next: the course's loop, driven by the incoming winner's diagnosis. Pure.

A stage's plan is straight-line code over a `Walk`: it asks for the candidates it needs (`walk.train`), reads
their results, and decides the next step. The stage flow replays the plan after each batch it trains
(`next_step`): a plan that needs a candidate not trained yet stops there and names the batch; one that has every
result it asked for ends with an `Outcome`. Replaying from the results alone keeps the plans free of state: a
resumed stage, which retrains its candidates, takes the same steps as long as they score as before (always with
`deterministic`, which makes every fit repeat to the last digit).

Two strategies (PipelineConfig.strategy):
- `grid`: every candidate of the stage's fixed grid at once; the best score wins (the product before the loop).
- `adaptive` (default): read the regime, then step. Underfitting grows the network (wider, then deeper);
  overfitting shrinks it (narrower, then shallower) and regularizes it; a good fit tries one step each way.
  A winner still improving at its last epoch trains longer (epochs doubled, up to a cap); a base whose
  validation still improves while it already fits its training rows (the regime `still improving`) trains longer
  first, and the stage then steps on what the longer run says, never growing it for its epochs. A candidate replaces
  the incumbent only when it gains more than the noise margin: one standard error of their difference on the
  same validation rows (training.method.noise). Steps go on in a winning direction within a step budget per profile.

From Google's Deep Learning Tuning Playbook: one question per round (capacity, then regularization, then the
schedule, then the nuisance search); the learning rate as a nuisance hyperparameter, searched last around the
winner (the tuning stage's centred space); training duration decided by whether validation still improves at
the end; and a decision only when the difference exceeds the trial-to-trial noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from training.config import PipelineConfig, Selection
from training.method.diagnosis import STILL_IMPROVING
from training.method.grids import (
    BASE,
    REGULARIZATION,
    WEIGHT_DECAY,
    augment_rungs,
    capacity_grid,
    regularization_grid,
    schedule_grid,
    tuning_grid,
    units_name,
)
from training.method.noise import noise_margin, paired_standard_error
from training.method.selection import CandidateResult, StageResult, select_winner
from training.model.families import family
from training.model.spec import ModelSpec

MAX_WIDTH = 1024
DEFAULT_LEARNING_RATE = ModelSpec().learning_rate  # every base starts at it; a story names a rate only off it
MIN_WIDTH = 8
MAX_LAYERS = 5

# Trainings each adaptive stage may spend on its steps (the incoming winner is not one of them).
CAPACITY_STEPS = {"quick": 2, "standard": 4, "full": 6}
# The first round tries one rung of each kind (augmentation, dropout, L2, batch normalization), the rest climbs.
REGULARIZATION_STEPS = {"quick": 2, "standard": 6, "full": 9}
# How many times a still-improving winner may double the run's epochs, over all stages: the cap is the run's
# epochs * 2**doublings (the epochs a stage settles on carry forward, so a later stage doubles from there).
EPOCH_DOUBLINGS = {"quick": 1, "standard": 2, "full": 2}


def epoch_cap(epochs: int, profile: str) -> int:
    return epochs * 2 ** EPOCH_DOUBLINGS[profile]


class Pending(Exception):  # noqa: N818 (not an error: control flow of a replay)
    """Raised inside a plan that asked for candidates not trained yet."""

    def __init__(self, batch: dict[str, ModelSpec]):
        super().__init__(f"needs {list(batch)}")
        self.batch = batch


@dataclass
class Outcome:
    winner: str
    story: str = ""
    margin: float | None = None
    decisions: dict[str, str] = field(default_factory=dict)


@dataclass
class Step:
    """What a stage does next: train `batch`, or (an empty batch) finish with `outcome`."""

    batch: dict[str, ModelSpec]
    outcome: Outcome | None = None


class Walk:
    """One replay of a plan over the results known so far."""

    def __init__(self, results: list[CandidateResult], selection: Selection):
        self.results = {r.name: r for r in results}
        self.selection = selection

    def train(self, batch: dict[str, ModelSpec]) -> list[CandidateResult]:
        missing = {name: spec for name, spec in batch.items() if name not in self.results}
        if missing:
            raise Pending(missing)
        return [self.results[name] for name in batch]

    def train_one(self, name: str, spec: ModelSpec) -> CandidateResult:
        return self.train({name: spec})[0]


Plan = Callable[[Walk], Outcome]


def next_step(plan: Plan, results: list[CandidateResult], selection: Selection) -> Step:
    try:
        return Step({}, plan(Walk(results, selection)))
    except Pending as pending:
        return Step(pending.batch)


# --- the grid ---------------------------------------------------------------------------------------------------

def grid_plan(grid: dict[str, ModelSpec]) -> Plan:
    """Every candidate at once; the best score wins (a tie to the smaller model, then the earlier one)."""
    def plan(walk: Walk) -> Outcome:
        return Outcome(select_winner(walk.train(grid), walk.selection).name)
    return plan


# --- acceptance and the story -----------------------------------------------------------------------------------

def gain(candidate: CandidateResult, incumbent: CandidateResult, selection: Selection) -> float:
    """How much better the candidate scores than the incumbent (negative: worse), in the metric's units."""
    delta = candidate.score - incumbent.score
    return delta if selection.direction == "max" else -delta


class Story:
    """The path of an adaptive stage: each step judged against the noise margin, in words.

    The margin of a step is one standard error of the difference between it and the incumbent on the same
    validation rows (training.method.noise.paired_standard_error); where the rows are not known for both, one standard
    error of the incumbent's own score. The stage's `margin` (its opening, its `noise_margin` metric) is the
    incoming winner's own standard error: how much its score moves by chance.
    """

    def __init__(self, walk: Walk, base: CandidateResult):
        self.walk, self.base = walk, base
        self.margin = noise_margin(base.score_se)
        self.parts: list[str] = []
        self.decisions: dict[str, str] = {}

    def opening(self, text: str) -> None:
        metric = self.walk.selection.metric
        self.parts.append(f"{text} ({metric} {self.base.score:.4f}, standard error {self.margin:.4f})")

    def say(self, text: str) -> None:
        self.parts.append(text)

    def step_margin(self, candidate: CandidateResult, incumbent: CandidateResult) -> float:
        paired = paired_standard_error(candidate.val_rows, incumbent.val_rows)
        return noise_margin(incumbent.score_se if paired is None else paired)

    def weigh(self, candidate: CandidateResult, incumbent: CandidateResult) -> tuple[bool, str]:
        """Whether `candidate` beats `incumbent` by more than the noise margin, and the reason in words."""
        if math.isnan(candidate.score):
            return False, "no score (NaN): not kept"
        if math.isnan(incumbent.score):
            return True, f"{incumbent.name} has no score (NaN): kept"
        delta = gain(candidate, incumbent, self.walk.selection)
        margin = self.step_margin(candidate, incumbent)
        if delta > margin:
            return True, f"{delta:+.4f} > noise {margin:.4f}: kept"
        if delta > 0:
            return False, f"{delta:+.4f}, within noise {margin:.4f}: not kept"
        return False, "no better: not kept" if delta == 0 else f"{delta:+.4f}: worse, not kept"

    def record(self, candidate: CandidateResult, incumbent: CandidateResult, why: str, label: str | None) -> None:
        self.decisions[candidate.name] = f"against {incumbent.name}: {why}"
        self.parts.append(f"{label or candidate.name} {candidate.score:.4f} ({why})")

    def judge(self, candidate: CandidateResult, incumbent: CandidateResult, label: str | None = None) -> bool:
        """Whether `candidate` replaces `incumbent`; records the step and the reason either way."""
        accepted, why = self.weigh(candidate, incumbent)
        self.record(candidate, incumbent, why, label)
        return accepted

    def best_of(self, candidates: list[CandidateResult], incumbent: CandidateResult) -> CandidateResult | None:
        """Judge each candidate of one round against the incumbent: the best of those that beat the margin
        replaces it (the others that did are recorded as beaten in the round)."""
        weighed = [(c, *self.weigh(c, incumbent)) for c in candidates]
        accepted = [c for c, ok, _ in weighed if ok]
        winner = select_winner(accepted, self.walk.selection) if accepted else None
        for candidate, ok, why in weighed:
            if ok and candidate is not winner:
                why = why.removesuffix(": kept") + f", but {winner.name} did better: not kept"
            self.record(candidate, incumbent, why, None)
        return winner

    def outcome(self, winner: CandidateResult) -> Outcome:
        if winner.name == self.base.name:
            self.parts.append(f"kept the incoming {describe_short(winner.spec)}")
        else:
            delta = gain(winner, self.base, self.walk.selection)
            self.parts.append(f"winner {winner.name} ({describe_short(winner.spec)}), {delta:+.4f} over the "
                              f"incoming {self.base.name}")
        return Outcome(winner.name, " → ".join(self.parts), self.margin, self.decisions)


def describe_short(spec: ModelSpec) -> str:
    """What the steps change: the network, its learning rate where a step moved it from the default (a capacity
    step's rate sweep, a tuned rate), its epochs, and its schedule once the schedule stage chose one."""
    rate = [f"lr {spec.learning_rate:.3g}"] if spec.learning_rate != DEFAULT_LEARNING_RATE else []
    return ", ".join([spec.describe_network(), *rate, f"{spec.epochs} epochs", *spec.describe_schedule()])


# --- capacity ---------------------------------------------------------------------------------------------------

def wider(units: tuple[int, ...]) -> tuple[int, ...] | None:
    """Every layer doubled: the same shape, twice the width (None past MAX_WIDTH)."""
    return None if max(units) * 2 > MAX_WIDTH else tuple(u * 2 for u in units)


def deeper(units: tuple[int, ...], by: float = 0.5) -> tuple[int, ...] | None:
    """One more layer at the end, `by` times the last one's width: half for the MLP (the course's units
    shrinking by layer), twice for the CNN (filters growing by block)."""
    width = min(MAX_WIDTH, max(MIN_WIDTH, int(units[-1] * by)))
    return None if len(units) >= MAX_LAYERS else (*units, width)


def narrower(units: tuple[int, ...]) -> tuple[int, ...] | None:
    """Every layer halved (None once the widest is at MIN_WIDTH)."""
    return None if max(units) <= MIN_WIDTH else tuple(max(MIN_WIDTH, u // 2) for u in units)


def shallower(units: tuple[int, ...]) -> tuple[int, ...] | None:
    """The last layer dropped (None for one layer)."""
    return None if len(units) == 1 else units[:-1]


MOVES = {"wider": wider, "deeper": deeper, "narrower": narrower, "shallower": shallower}
GROW, SHRINK = ("wider", "deeper"), ("narrower", "shallower")


def capacity_candidate(spec: ModelSpec, move: str) -> tuple[str, ModelSpec] | None:
    units = deeper(spec.units, family(spec.family).deepen_by) if move == "deeper" else MOVES[move](spec.units)
    return None if units is None else (units_name(units), replace(spec, units=units))


def declared_only(grid: dict[str, ModelSpec], base: ModelSpec) -> dict[str, ModelSpec]:
    """The grid's candidates that vary only knobs the base's family declares (a user's build function may
    declare a few): the others would train the same network under another name."""
    fam = family(base.family)
    return {name: spec for name, spec in grid.items()
            if all(getattr(spec, k) == getattr(base, k) for k in fam.skipped())}


def skipped_knobs(spec: ModelSpec, knobs: tuple[str, ...]) -> str:
    """`; <family> declares no <knobs>: not varied` for those of `knobs` the family leaves out, else ''."""
    fam = family(spec.family)
    missing = [k for k in knobs if not fam.declares(k)]
    return f"; {fam.name} declares no {', '.join(missing)} knob: not varied" if missing else ""


def capacity_plan(base_spec: ModelSpec, profile: str, max_epochs: int | None = None,
                  lr_sweep: bool = False) -> Plan:
    """Grow an underfitting base, shrink an overfitting one, one step each way from a good fit; keep stepping
    in a direction while it beats the noise margin, within the profile's step budget; then train longer if the
    winner is still improving. `lr_sweep`: each step's network is trained at the incumbent's learning rate and at
    a third and three times it, and stands for the step at its best rate (rate_sweep)."""
    def plan(walk: Walk) -> Outcome:
        base = walk.train_one(BASE, base_spec)
        story = Story(walk, base)
        regime = base.diagnosis.regime
        if not family(base_spec.family).declares("units"):
            story.opening(f"{regime}{skipped_knobs(base_spec, ('units',))}: no capacity step")
            return story.outcome(train_longer(walk, story, base, max_epochs or epoch_cap(base_spec.epochs, profile)))
        if regime == "diverged":
            story.opening("diverged: no capacity step cures a learning rate that is too high; the schedule and "
                          "tuning stages search the rate")
            return story.outcome(base)
        steps = CAPACITY_STEPS[profile]
        cap = max_epochs or epoch_cap(base_spec.epochs, profile)
        current, directions = base, ()
        if regime == STILL_IMPROVING:
            # It fits its training rows and validation still improves: it is not too small, only short of epochs.
            story.opening("still improving while it fits its training rows: train longer before any capacity step")
            current = train_longer(walk, story, base, cap)
            regime = current.diagnosis.regime
            if regime == STILL_IMPROVING:
                return story.outcome(current)
        # The opening states the incoming winner's score; after training longer, the step names the epochs.
        tell = story.opening if current is base else (lambda text: story.say(f"at {current.spec.epochs} epochs, "
                                                                            + text))
        if regime in ("underfitting", "overfitting"):
            directions = GROW if regime == "underfitting" else SHRINK
            tell(f"{regime}: {'grow' if regime == 'underfitting' else 'shrink'} the network")
        else:
            tell("good fit: one step each way")
            incumbent = current
            first = [c for move in ("wider", "narrower") if (c := capacity_candidate(incumbent.spec, move))]
            tried = rate_sweep(walk, story, first, lr_sweep)
            steps -= len(tried)
            if winner := story.best_of(tried, incumbent):
                current = winner
                directions = GROW if winner.spec.units == wider(incumbent.spec.units) else SHRINK
        for move in directions:
            while steps > 0 and (candidate := capacity_candidate(current.spec, move)):
                result = rate_sweep(walk, story, [candidate], lr_sweep)[0]
                steps -= 1
                if not story.judge(result, current, f"{move} {result.name}"):
                    break
                current = result
        current = train_longer(walk, story, current, cap)
        return story.outcome(current)
    return plan


LR_SWEEP_FACTOR = 3.0


def rate_variants(name: str, spec: ModelSpec) -> dict[str, ModelSpec]:
    """A network at its own learning rate, a third of it and three times it (the playbook: the learning rate is
    a nuisance hyperparameter, re-optimized for each scientific change such as the network's size)."""
    rate = spec.learning_rate
    return {name: spec,
            f"{name}-lr-{rate / LR_SWEEP_FACTOR:.3g}": replace(spec, learning_rate=rate / LR_SWEEP_FACTOR),
            f"{name}-lr-{rate * LR_SWEEP_FACTOR:.3g}": replace(spec, learning_rate=rate * LR_SWEEP_FACTOR)}


def rate_sweep(walk: Walk, story: Story, candidates: list[tuple[str, ModelSpec]],
               sweep: bool) -> list[CandidateResult]:
    """Each candidate network's result; with `sweep`, trained at three rates in one batch, each network at its
    best rate (a tie to its own rate), the other rates recorded as beaten in the sweep. The step is then judged
    against the incumbent by the noise margin like any other."""
    if not sweep:
        return walk.train(dict(candidates))
    variants = [rate_variants(name, spec) for name, spec in candidates]
    results = walk.train({name: spec for rates in variants for name, spec in rates.items()})
    best = []
    for rates in variants:
        tried = [r for r in results if r.name in rates]
        winner = select_winner(tried, walk.selection)
        for other in tried:
            if other is not winner:
                story.decisions[other.name] = (f"learning-rate sweep of {next(iter(rates))}: {winner.name} "
                                               f"({winner.spec.learning_rate:.3g}) scored better")
        best.append(winner)
    return best


def train_longer(walk: Walk, story: Story, current: CandidateResult, max_epochs: int) -> CandidateResult:
    """While the winner's validation still improves at its last epoch: its epochs doubled, up to `max_epochs`,
    kept when the gain beats the noise margin (the epochs it settles on carry forward to the next stage)."""
    while current.diagnosis.still_improving and current.spec.epochs * 2 <= max_epochs:
        epochs = current.spec.epochs * 2
        story.say(f"still improving at {current.spec.epochs} epochs")
        result = walk.train_one(f"epochs-{epochs}", replace(current.spec, epochs=epochs))
        if not story.judge(result, current, f"{epochs} epochs"):
            break
        current = result
    return current


# --- regularization ---------------------------------------------------------------------------------------------

def regularization_plan(base_spec: ModelSpec, profile: str, dropout_rates: list[float],
                        l2_factors: list[float], max_epochs: int | None = None,
                        augment: list[tuple[str, ModelSpec]] = ()) -> Plan:
    """Regularize only what overfits or shows a real generalization gap: one rung of each kind (augmentation,
    dropout, L2 weight decay, batch normalization), then the winning kind's stronger rungs while they beat the noise
    margin. `augment`: the augmentation rungs (grids.augment_rungs), first for images (the course's first remedy:
    more data), last for tables, whose Gaussian input noise is the weaker analogue.
    An underfitting or diverged base gets batch normalization alone (it helps a network train; dropout and
    weight decay would make an underfitting one worse). A good fit (no gap beyond noise: training.method.diagnosis) is
    left as it is."""
    cap = max_epochs or epoch_cap(base_spec.epochs, profile)

    def plan(walk: Walk) -> Outcome:
        base = walk.train_one(BASE, base_spec)
        story = Story(walk, base)
        d = base.diagnosis
        skipped = skipped_knobs(base.spec, ("dropout", "l2", "batchnorm"))
        if d.regime == STILL_IMPROVING:
            story.opening("still improving while it fits its training rows: train longer before regularizing")
            base = train_longer(walk, story, base, cap)
            d = base.diagnosis
            if d.regime == STILL_IMPROVING:
                return story.outcome(base)
        tell = story.opening if base is story.base else (lambda text: story.say(f"at {base.spec.epochs} epochs, "
                                                                               + text))
        lag = d.lag if d.lag is not None else 0.0
        if d.regime in ("underfitting", "diverged"):
            tell(f"{d.regime}: dropout and weight decay would make it worse; batch normalization only "
                 f"(it helps a network train){skipped}")
            current = base
            if not base.spec.batchnorm and family(base.spec.family).declares("batchnorm"):
                result = walk.train_one("batchnorm", replace(base.spec, batchnorm=True))
                if story.judge(result, base):
                    current = result
            return story.outcome(train_longer(walk, story, current, cap))
        if d.regime == "good fit":
            tell(f"good fit, validation within noise of training (gap {lag:+.4f}): nothing to cure, no "
                 f"variant trained{skipped}")
            return story.outcome(base)
        ladders = regularization_ladders(base.spec, dropout_rates, l2_factors, augment)
        if not any(ladders.values()):
            tell(f"overfitting, but no regularization stronger than the base's own is configured{skipped}")
            return story.outcome(base)
        tell(f"overfitting: regularize{skipped}")
        steps = REGULARIZATION_STEPS[profile]
        first = {ladder[0][0]: ladder[0][1] for ladder in ladders.values() if ladder}
        tried = walk.train(dict(list(first.items())[:steps]))
        steps -= len(tried)
        current = base
        if winner := story.best_of(tried, base):
            current = winner
            kind = next(k for k, ladder in ladders.items() if ladder and ladder[0][0] == winner.name)
            for name, spec in ladders[kind][1:]:
                if steps <= 0:
                    break
                result = walk.train_one(name, spec)
                steps -= 1
                if not story.judge(result, current):
                    break
                current = result
        return story.outcome(train_longer(walk, story, current, cap))
    return plan


def regularization_ladders(base: ModelSpec, dropout_rates: list[float], l2_factors: list[float],
                           augment: list[tuple[str, ModelSpec]] = ()) -> dict[str, list[tuple[str, ModelSpec]]]:
    """Each kind's rungs, weakest first, stronger than the base's own setting; none for a kind the base's family
    does not declare. Augmentation acts on the inputs, so every family takes it: its rungs (the base's network
    with each strength) come first for images and last for tables."""
    augment = [(name, replace(base, augment=spec.augment)) for name, spec in augment if spec.augment > base.augment]
    images = bool(augment) and augment[0][1].augment_transforms != ("noise",)
    ladders = {**({"augment": augment} if images else {}),
        "dropout": [(f"dropout-{rate:g}", replace(base, dropout=rate))
                    for rate in sorted(set(dropout_rates)) if rate > base.dropout],
        "l2": [(f"l2-{factor:g}", replace(base, l2=factor)) for factor in sorted(set(l2_factors)) if factor > base.l2],
        "batchnorm": [] if base.batchnorm else [("batchnorm", replace(base, batchnorm=True))],
        **({} if images else {"augment": augment}),
    }
    fam = family(base.family)
    return {kind: rungs if kind == "augment" or fam.declares(kind) else [] for kind, rungs in ladders.items()}


# --- one round against the incoming winner (schedule, tuning) ----------------------------------------------------

def one_round_plan(grid: dict[str, ModelSpec], opening: str) -> Plan:
    """The grid's candidates at once, each judged against the incoming base: the best that beats the noise
    margin wins, else the base stays."""
    def plan(walk: Walk) -> Outcome:
        base = walk.train_one(BASE, grid[BASE])
        story = Story(walk, base)
        story.opening(opening)
        others = {name: spec for name, spec in grid.items() if name != BASE}
        if not others:
            story.say("nothing new to try")
            return story.outcome(base)
        winner = story.best_of(walk.train(others), base)
        return story.outcome(winner or base)
    return plan


# --- the search budget ------------------------------------------------------------------------------------------

def search_scale(stages: list[StageResult]) -> float:
    """How much of the profile's search budget the tuning stage spends: the full budget while the stages before
    it still gained (the last two together by at least two noise margins), half when they gained something,
    a quarter when neither beat its incoming winner (the network has settled; a long search rarely pays). A
    stage whose incoming winner's score had no spread at all (a standard error of 0: every validation row
    right) and still changed its winner counts as a clear gain."""
    recent = [s for s in stages if s.margin is not None][-2:]
    if not recent:
        return 1.0
    gained = 0.0
    for stage in recent:
        base = stage.reference_result
        if base is not None and stage.winner.name != base.name and stage.margin:
            gained += gain(stage.winner, base, Selection(stage.metric, stage.direction)) / stage.margin
        elif base is not None and stage.winner.name != base.name:
            gained += 2.0
    if gained >= 2.0:
        return 1.0
    return 0.5 if gained > 0 else 0.25


# --- each stage's plan under the configured strategy -------------------------------------------------------------

def reusable_base(incoming: CandidateResult | None, base: ModelSpec,
                  config: PipelineConfig) -> CandidateResult | None:
    """The previous stage's winner, when the adaptive strategy may stand it in for this stage's base: trained on
    the same spec with the same seed, so retraining it would only repeat it. The grid strategy retrains its
    base, as it always did."""
    if config.strategy == "adaptive" and incoming is not None and incoming.spec == base:
        return incoming
    return None


def baseline_plan(base: ModelSpec) -> Plan:
    return grid_plan({BASE: base})


def plan_capacity(base: ModelSpec, config: PipelineConfig) -> Plan:
    if config.strategy == "grid":
        return grid_plan(declared_only(capacity_grid(base, config), base))
    if config.capacity_units and family(base.family).declares("units"):
        # networks the user named: all of them, judged against the base's noise
        return one_round_plan(capacity_grid(base, config), "the configured networks against the base")
    return capacity_plan(base, config.profile, epoch_cap(config.resolved_epochs, config.profile),
                         config.capacity_lr_sweep)


def plan_regularization(base: ModelSpec, config: PipelineConfig) -> Plan:
    if config.strategy == "grid":
        return grid_plan(declared_only(regularization_grid(base, config), base))
    rates = config.dropout_rates or sorted({rate for rate, _ in REGULARIZATION[config.profile] if rate})
    return regularization_plan(base, config.profile, rates, config.l2_factors or WEIGHT_DECAY[config.profile],
                               epoch_cap(config.resolved_epochs, config.profile), augment_rungs(base, config))


def plan_schedule(base: ModelSpec, config: PipelineConfig) -> Plan:
    grid = schedule_grid(base, config)
    if config.strategy == "grid":
        return grid_plan(grid)
    return one_round_plan(grid, "learning-rate schedules and callbacks against the constant rate")


def plan_tuning(base: ModelSpec, best_trial: ModelSpec, config: PipelineConfig, trials: int) -> Plan:
    grid = tuning_grid(base, best_trial)
    if config.strategy == "grid":
        return grid_plan(grid)
    if BASE in grid and len(grid) == 1:
        return one_round_plan(grid, f"{trials} trial(s) searched around the incoming winner; the best was the "
                                    "incoming winner itself: the search found nothing better")
    return one_round_plan(grid, f"{trials} trial(s) searched around the incoming winner; the best trial retrained "
                                f"at the winner's {base.epochs} epochs")
