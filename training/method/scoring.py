"""Scores from predictions, at the level of the original labels, so models with their own preprocessing
(an old champion, a new challenger) are compared on the same raw test rows. Pure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.data.split import Split
from training.method.noise import cross_entropy, row_scores
from training.serving.predict import PROBA_PREFIX

# The name MLflow's evaluation gives each selection metric (without `val_`), per task: what the gate compares.
EVALUATION_METRICS = {("classification", "accuracy"): "accuracy_score", ("classification", "loss"): "log_loss",
                      ("regression", "loss"): "mean_squared_error", ("regression", "mae"): "mean_absolute_error"}


def evaluation_metric(task: str, selection_metric: str) -> str:
    """val_accuracy -> accuracy_score, val_loss -> log_loss or mean_squared_error: MLflow's evaluation name."""
    return EVALUATION_METRICS[(task, selection_metric.removeprefix("val_"))]


def log_loss(truth: np.ndarray, proba: np.ndarray, classes: list) -> float:
    """Mean negative log probability of each row's true class (`proba` columns in `classes` order). A class the
    model never saw gets probability 0, clipped at 1e-7 as Keras clips: the worst loss for that row. The one
    definition of the test log loss: the network's (in MLflow's evaluation) and the baselines' alike."""
    index = {str(c): i for i, c in enumerate(classes)}
    rows = np.arange(len(truth))
    columns = np.array([index.get(str(label), -1) for label in truth])
    picked = np.where(columns >= 0, proba[rows, np.maximum(columns, 0)], 0.0)
    return float(np.mean(cross_entropy(picked)))


def score_predictions(predictions: pd.DataFrame, truth: pd.Series, task: str, metric: str) -> float:
    """`metric` is the selection metric without its `val_` prefix: accuracy or loss (classification),
    loss (mse) or mae (regression)."""
    if task == "classification":
        if metric == "accuracy":
            return float(np.mean(predictions["prediction"].astype(str).to_numpy() == truth.astype(str).to_numpy()))
        if metric == "loss":
            classes = [c.removeprefix(PROBA_PREFIX) for c in predictions.columns if c.startswith(PROBA_PREFIX)]
            proba = predictions[[PROBA_PREFIX + c for c in classes]].to_numpy(dtype="float64")
            return log_loss(truth.astype(str).to_numpy(), proba, classes)
    elif metric in ("loss", "mae"):
        return float(np.mean(row_scores(metric, task, truth.to_numpy(dtype="float64"),
                                        predictions["prediction"].to_numpy(dtype="float64"))))
    raise ValueError(f"no test score for metric {metric!r} and task {task!r}")


def predict_test_rows(model, split: Split) -> pd.DataFrame:
    """A served model's predictions of the raw test rows (anything with `predict(frame)`), a chunk at a time:
    images are read from disk as they are scored."""
    return pd.concat([model.predict(chunk) for chunk in split.test_inputs()], ignore_index=True)


def expected_outputs(split: Split) -> list[str]:
    """The columns a model of today's task and classes answers with: `prediction`, and `proba_<class>` each."""
    return ["prediction", *(f"{PROBA_PREFIX}{c}" for c in split.preprocessor.classes)]
