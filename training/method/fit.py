"""The one function that trains any spec on a split. Every stage, the tuner and the final retrain use it."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from training.config import Selection
from training.data.image_files import ImageFiles
from training.data.split import Split
from training.method.baselines import validation_reference
from training.method.diagnosis import Diagnosis, diagnose
from training.method.noise import row_scores, standard_error
from training.method.schedules import training_callbacks
from training.model.build import build_model, train_steps
from training.model.spec import DATA_LOSS, ModelSpec, data_metric

# Above this many rows, batches gather shuffled indices from one copy of the table instead of shuffling the
# rows themselves (a shuffle buffer holds a second copy of every row); bench/throughput.py and bench/scaling.py.
SHUFFLE_ROWS_UP_TO = 200_000


def batches(x, y, batch_size: int, shuffle_seed: int | None = None):
    """A tf.data pipeline of (features, target) batches, reshuffled each epoch when a seed is given.

    Keras' own handling of NumPy arrays costs more per step than the step itself for these small networks;
    with a prefetched dataset and steps_per_execution (training.model.build) an epoch runs several times faster on
    2 cores (bench/RESULTS.md, measurement 3) with the same results within seed noise.
    """
    import tensorflow as tf

    if isinstance(x, ImageFiles):  # images on disk: read and decoded batch by batch
        return x.dataset(y, batch_size, shuffle_seed)
    rows = len(x)
    if shuffle_seed is None:
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    elif rows <= SHUFFLE_ROWS_UP_TO:
        data = (tf.data.Dataset.from_tensor_slices((x, y))
                .shuffle(rows, seed=shuffle_seed, reshuffle_each_iteration=True).batch(batch_size))
    else:
        features, target = tf.constant(x), tf.constant(y)
        data = (tf.data.Dataset.range(rows).shuffle(rows, seed=shuffle_seed, reshuffle_each_iteration=True)
                .batch(batch_size).map(lambda i: (tf.gather(features, i), tf.gather(target, i))))
    return data.prefetch(tf.data.AUTOTUNE)


def inputs(x, y, batch_size: int) -> dict:
    """The keyword arguments of model.evaluate and model.predict for a split's rows: its arrays and the batch
    size, or for images on disk the dataset that reads them batch by batch."""
    if isinstance(x, ImageFiles):
        return {"x": x.dataset(y, batch_size)}
    return {"x": x, "batch_size": batch_size, **({} if y is None else {"y": y})}


@dataclass
class FitResult:
    model: keras.Model
    history: dict[str, list[float]]  # per epoch: loss, val_loss, metric, val_metric, learning_rate
    val_scores: dict[str, float]  # the returned model evaluated on the validation split
    score: float  # val_scores[selection.metric] (the data loss for a penalized model): what selection compares
    diagnosis: Diagnosis
    fit_seconds: float  # time inside model.fit only
    score_se: float = 0.0  # standard error of `score` over the validation rows (training.method.noise)
    val_rows: np.ndarray | None = field(default=None, repr=False)  # the per-row values whose mean is `score`

    @property
    def epochs_run(self) -> int:
        return len(self.history["loss"])

    @property
    def param_count(self) -> int:
        return int(self.model.count_params())


def fit(
    spec: ModelSpec,
    split: Split,
    selection: Selection,
    *,
    seed: int,
    callbacks: list[keras.callbacks.Callback] | tuple = (),
    workdir: Path | None = None,
    model: keras.Model | None = None,
    initial_epoch: int = 0,
) -> FitResult:
    """Build `spec`, train it on the split's train rows, validate on its val rows; nothing else.

    Keras Tuner passes the `model` it built from the same spec (with a previous round's weights, for
    Hyperband) and the `initial_epoch` to continue from; everything else is the same path.
    """
    # Seed right before building: the same spec, split and seed give the same weights and shuffles.
    keras.utils.set_random_seed(seed)
    if model is None:
        model = build_model(spec, split.input_shape, split.task, split.n_classes, seed=seed,
                            target_scale=split.target_scale, steps=train_steps(split.rows["train"], spec))
    with tempfile.TemporaryDirectory(prefix="fit-", dir=workdir) as scratch:
        started = time.perf_counter()
        keras_history = model.fit(
            batches(split.x_train, split.y_train, spec.batch_size, shuffle_seed=seed),
            validation_data=batches(split.x_val, split.y_val, spec.batch_size),
            epochs=spec.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the dataset reshuffles every epoch itself
            callbacks=training_callbacks(spec, monitored(selection, model), Path(scratch)) + list(callbacks),
            verbose=0,  # progress is one line per candidate, not Keras' per-batch bars
        )
        fit_seconds = time.perf_counter() - started
    history = {key: [float(v) for v in values] for key, values in keras_history.history.items()}
    evaluated = model.evaluate(**inputs(split.x_val, split.y_val, max(spec.batch_size, 256)), verbose=0,
                               return_dict=True)
    val_scores = {f"val_{k}": float(v) for k, v in evaluated.items()}
    if selection.metric not in val_scores or selection.metric not in history:
        raise ValueError(f"the model reports {sorted(val_scores)}, not the selection metric {selection.metric!r}")
    rows = validation_rows(model, split, selection, spec.batch_size)
    score_se = standard_error(rows)
    stopped_early = spec.early_stopping and len(history["loss"]) < spec.epochs - initial_epoch
    return FitResult(
        model=model,
        history=history,
        val_scores=val_scores,
        score=val_scores[data_metric(selection.metric, val_scores)],  # a penalized model: its data loss
        diagnosis=diagnose(history, selection, reference=validation_reference(split, selection, seed),
                           score_se=score_se, stopped_early=stopped_early),
        fit_seconds=fit_seconds,
        score_se=score_se,
        val_rows=rows,
    )


def monitored(selection: Selection, model: keras.Model) -> Selection:
    """What the schedule's callbacks watch: the selection metric, or for a penalized model selected on the loss
    its data loss (which build_model makes it report)."""
    reported = {f"val_{DATA_LOSS}"} if model.losses else set()
    return Selection(data_metric(selection.metric, reported), selection.direction)


def validation_rows(model: keras.Model, split: Split, selection: Selection, batch_size: int) -> np.ndarray:
    """The per-row values of the selection metric on the validation rows (training.method.noise): their spread gives
    the score's standard error, and two models' rows give the standard error of their difference."""
    predicted = model.predict(**inputs(split.x_val, None, max(batch_size, 256)), verbose=0)
    return row_scores(selection.metric.removeprefix("val_"), split.task, split.y_val, np.asarray(predicted))
