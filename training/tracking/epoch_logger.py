"""The Keras callback that sends each epoch's logs to an MLflow run: the per-epoch curves of the UI."""

from __future__ import annotations

import time

import keras
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric


class EpochLogger(keras.callbacks.Callback):
    """Sends each epoch's logs (losses, metrics, learning rate) to a run with `step` = epoch, 1-based.

    Stateless apart from its target, so a deep copy of it (Keras Tuner copies the callbacks it is given) still
    logs to the same run.
    """

    def __init__(self, client: MlflowClient, run_id: str):
        super().__init__()
        self.client = client
        self.run_id = run_id

    def on_epoch_end(self, epoch, logs=None):
        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, epoch + 1) for k, v in (logs or {}).items()
                   if isinstance(v, (int, float, np.floating, np.integer))]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def __deepcopy__(self, memo):
        # The MLflow client holds a store connection that must not be copied; share it.
        return EpochLogger(self.client, self.run_id)
