"""The one way a network is trained and recorded: stage candidates, the retrained best trial and every tuner
trial each get a run under their stage run, with params, per-epoch curves, scores and diagnosis."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from training.config import Selection
from training.data.split import Split
from training.method.fit import FitResult, fit
from training.model.spec import ModelSpec
from training.runtime import interruption
from training.tracking.datasets import log_split_inputs
from training.tracking.records import log_candidate, log_fit
from training.tracking.runs import Tracker


@dataclass(frozen=True)
class RecordedFit:
    run_id: str
    result: FitResult
    model_uri: str | None  # the logged model; None for a tuner trial, which keeps none


def train_and_record(tracker: Tracker, stage_run_id: str, name: str, tags: dict[str, str], spec: ModelSpec,
                     split: Split, selection: Selection, *, seed: int, params: dict | None = None,
                     model: keras.Model | None = None, initial_epoch: int = 0,
                     callbacks: list[keras.callbacks.Callback] | tuple = (), keep_model: bool = True) -> RecordedFit:
    """Fit `spec` on the one training path inside a run named `name` under `stage_run_id`.

    A candidate (`keep_model`) also records its learning curves and its model, which promotion may register.
    A tuner trial passes the `model` Keras Tuner built, the epoch to continue from, the tuner's callbacks and
    its hyperparameters as `params`; it keeps no model (its best is retrained as a candidate).
    """
    with tracker.candidate_run(name, stage_run_id, tags=tags) as run_id:
        tracker.log_params(run_id, spec.params() if params is None else params)
        log_split_inputs(split, ("training", "validation"))  # the rows it is trained and judged on
        try:
            result = fit(spec, split, selection, seed=seed, model=model, initial_epoch=initial_epoch,
                         callbacks=[*callbacks, tracker.epoch_logger(run_id), interruption.StopWhenAsked()])
        except Exception:
            # A stop raised inside TensorFlow's C++ (building the first network) arrives as another error
            # (a RuntimeError from pybind11): raise the stop itself, so the run ends as interrupted.
            interruption.check()
            raise
        if keep_model:
            model_uri = log_candidate(tracker, run_id, result, split, selection, title=f"{tags.get('stage')}/{name}")
        else:
            log_fit(tracker, run_id, result, selection)
            model_uri = None
    return RecordedFit(run_id, result, model_uri)
