"""Learning-rate schedules and training callbacks made from a spec. Pure: no tracking, no I/O of its own."""

from __future__ import annotations

import math
from pathlib import Path

import keras

from training.config import Selection
from training.model.spec import ModelSpec


def learning_rate_at(spec: ModelSpec, epoch: int) -> float:
    """The learning rate of `epoch` (0-based): constant, exponential, or step decay ('halve every 5 epochs')."""
    if spec.schedule == "constant":
        return spec.learning_rate
    exponent = epoch / spec.decay_every
    if spec.schedule == "step":
        exponent = math.floor(exponent)
    return spec.learning_rate * spec.decay_rate**exponent


class LearningRateRecorder(keras.callbacks.Callback):
    """Puts the optimizer's current learning rate into each epoch's logs, so History and trackers see it."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


class RestoreBestWeights(keras.callbacks.Callback):
    """ModelCheckpoint of the best epoch, then the model ends training with those weights.

    The checkpoint is a real `.weights.h5` file written by Keras' ModelCheckpoint (so an interrupted
    run leaves its best epoch on disk); this callback only loads it back at the end.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_train_end(self, logs=None):
        if self.path.exists():
            self.model.load_weights(self.path)


def training_callbacks(spec: ModelSpec, selection: Selection, workdir: Path | None) -> list[keras.callbacks.Callback]:
    """The callbacks a spec asks for, monitoring the configured selection metric."""
    callbacks: list[keras.callbacks.Callback] = []
    if spec.schedule != "constant":
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: learning_rate_at(spec, epoch)))
    if spec.reduce_on_plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=selection.metric, mode=selection.direction, factor=0.5,
            patience=max(1, spec.patience // 2), min_lr=spec.learning_rate / 100))
    if spec.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=selection.metric, mode=selection.direction, patience=spec.patience,
            restore_best_weights=True))
    if spec.checkpoint_best:
        if workdir is None:
            raise ValueError("checkpoint_best needs a working directory for the checkpoint file")
        path = Path(workdir) / "best.weights.h5"
        callbacks.append(keras.callbacks.ModelCheckpoint(
            path, monitor=selection.metric, mode=selection.direction, save_best_only=True,
            save_weights_only=True))
        callbacks.append(RestoreBestWeights(path))
    callbacks.append(LearningRateRecorder())
    return callbacks
