"""Scores from predictions, at the level of the original labels, so models with their own preprocessing
(an old champion, a new challenger) are compared on the same raw test rows. Pure."""

from __future__ import annotations

import numpy as np
import pandas as pd

PROBA_PREFIX = "proba_"
# The name MLflow's evaluation gives each selection metric (without `val_`), per task: what the gate compares.
EVALUATION_METRICS = {("classification", "accuracy"): "accuracy_score", ("classification", "loss"): "log_loss",
                      ("regression", "loss"): "mean_squared_error", ("regression", "mae"): "mean_absolute_error"}


def evaluation_metric(task: str, selection_metric: str) -> str:
    """val_accuracy -> accuracy_score, val_loss -> log_loss or mean_squared_error: MLflow's evaluation name."""
    return EVALUATION_METRICS[(task, selection_metric.removeprefix("val_"))]


def score_predictions(predictions: pd.DataFrame, truth: pd.Series, task: str, metric: str) -> float:
    """`metric` is the selection metric without its `val_` prefix: accuracy or loss (classification),
    loss (mse) or mae (regression)."""
    if task == "classification":
        if metric == "accuracy":
            return float(np.mean(predictions["prediction"].astype(str).to_numpy() == truth.astype(str).to_numpy()))
        if metric == "loss":
            columns = {c.removeprefix(PROBA_PREFIX): c for c in predictions.columns if c.startswith(PROBA_PREFIX)}
            labels = truth.astype(str).to_numpy()
            # A class the model never saw gets probability 0, clipped: the worst loss for that row.
            proba = np.array([predictions[columns[label]].iloc[i] if label in columns else 0.0
                              for i, label in enumerate(labels)], dtype="float64")
            return float(-np.mean(np.log(np.clip(proba, 1e-7, 1.0))))
    else:
        error = predictions["prediction"].to_numpy(dtype="float64") - truth.to_numpy(dtype="float64")
        if metric == "loss":
            return float(np.mean(error**2))
        if metric == "mae":
            return float(np.mean(np.abs(error)))
    raise ValueError(f"no test score for metric {metric!r} and task {task!r}")
