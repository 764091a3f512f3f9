"""MLflow's evaluation of a served model's test-row predictions, and MLflow's gate between two evaluations.

`mlflow.models.evaluate` computes the standard metrics and plots (classifier: accuracy, precision, recall, F1,
confusion matrix; regressor: MAE, MSE, RMSE, R², ...) and logs them with an evaluation table in the active run.
It is given the predictions of the very artifact that is registered (static-dataset mode), because its
classifier evaluator takes probabilities only from scikit-learn-like models, never from a pyfunc: ROC-AUC, log
loss and the ROC and precision-recall curves are computed from the `proba_<class>` columns here, with
scikit-learn as MLflow would, and logged through the same call (`extra_metrics`, `custom_artifacts`). The
residual plot of a regressor is one such artifact too.

`mlflow.validate_evaluation_results` is the gate ("blessing"): the candidate must beat the champion by the
configured absolute and relative margins on the selection metric.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.metrics import MetricValue
from mlflow.models import MetricThreshold, make_metric
from mlflow.models.evaluation import EvaluationResult
from mlflow.models.evaluation.validation import ModelValidationFailedException
from sklearn import metrics as sk_metrics

from training.config import Gate, Selection
from training.method.scoring import evaluation_metric, log_loss
from training.report.plots import RENDER_LOCK
from training.serving.predict import PROBA_PREFIX

TARGET = "target"
EVALUATION_PREFIX = "test_"  # these metrics are of the test split: test_accuracy_score, test_r2_score, ...


def evaluate_predictions(predictions: pd.DataFrame, truth: pd.Series, task: str, classes: list,
                         model_id: str | None = None, plots: bool = True) -> EvaluationResult:
    """Evaluate one model's test predictions with MLflow in the active run (metrics named `test_...`); the
    metrics also link to the logged model `model_id`, which the registered version shows. Without `plots`,
    only MLflow's own (the confusion matrix): enough to compare a champion by."""
    data = predictions.reset_index(drop=True).assign(**{TARGET: truth.reset_index(drop=True)})
    config: dict = {"metric_prefix": EVALUATION_PREFIX, "log_model_explainability": False}
    extra_metrics, artifacts = [], []
    if task == "classification":
        data[TARGET] = data[TARGET].astype(str)
        data["prediction"] = data["prediction"].astype(str)
        labels = [str(c) for c in classes]
        # Each probability column reaches the metric functions as one named argument: p0, p1, ...
        config["col_mapping"] = {f"p{i}": f"{PROBA_PREFIX}{c}" for i, c in enumerate(classes)}
        config["label_list"] = labels
        extra_metrics = [make_metric(eval_fn=_with_probabilities(_log_loss, len(labels), labels),
                                     greater_is_better=False, name="log_loss"),
                         make_metric(eval_fn=_with_probabilities(_roc_auc, len(labels), labels),
                                     greater_is_better=True, name="roc_auc")]
        proba = data[[f"{PROBA_PREFIX}{c}" for c in classes]].to_numpy(dtype="float64")
        artifacts = [_curves(proba, labels)]
    else:
        artifacts = [_residuals]
    if not plots:
        artifacts = []
    with warnings.catch_warnings():  # integer labels or features of a static data set, never missing here
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
        # Every test row with its truth and prediction, for the UI's artifact view (MLflow logs its own
        # evaluation table only for per-row metrics, which these are not).
        mlflow.log_table(data, artifact_file="test_predictions.json")
        # MLflow draws its confusion matrix through pyplot's one current figure: one evaluation draws at a time
        # (two promotions may run at once). An RLock: the plots of `custom_artifacts` take it again inside.
        with RENDER_LOCK:
            return mlflow.models.evaluate(
                data=data, targets=TARGET, predictions="prediction",
                model_type="classifier" if task == "classification" else "regressor",
                evaluator_config=config, extra_metrics=extra_metrics, custom_artifacts=artifacts, model_id=model_id)


def gate_failure(candidate: EvaluationResult, champion: EvaluationResult, task: str, selection: Selection,
                 gate: Gate) -> str | None:
    """None when the candidate passes MLflow's validation against the champion; else MLflow's reason."""
    name = EVALUATION_PREFIX + evaluation_metric(task, selection.metric)
    champion_value = float(champion.metrics.get(name, 0.0))
    threshold = MetricThreshold(
        # A tie keeps the champion: with no margin configured, better by any amount is required. MLflow refuses
        # a zero margin and compares with >=, so the smallest margin that still moves the champion's value in
        # floating point (1e-12 alone vanishes next to an MSE in the tens of thousands).
        min_absolute_change=gate.min_absolute or max(1e-12, abs(champion_value) * 1e-9),
        min_relative_change=gate.min_relative or None,
        greater_is_better=selection.direction == "max")
    try:
        mlflow.validate_evaluation_results({name: threshold}, candidate, champion)
    except ModelValidationFailedException as failure:
        return str(failure.message)
    return None


def _with_probabilities(score: Callable, n_classes: int, labels: list[str]) -> Callable:
    """`score(targets, proba, labels)` as an MLflow metric function whose arguments MLflow fills by name:
    `targets`, then one `p<i>` column per class (mapped to `proba_<class>` in the evaluator config)."""

    def eval_fn(targets, *columns):
        proba = np.column_stack([np.asarray(c, dtype="float64") for c in columns])
        return score(np.asarray(targets).astype(str), proba, labels)

    eval_fn.__signature__ = inspect.Signature(
        [inspect.Parameter("targets", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(f"p{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD) for i in range(n_classes)])
    return eval_fn


def _log_loss(targets: np.ndarray, proba: np.ndarray, labels: list[str]):
    # The project's definition (training.method.scoring.log_loss), so the baselines' is the same formula.
    return MetricValue(aggregate_results={"log_loss": log_loss(targets, proba, labels)})


def _roc_auc(targets: np.ndarray, proba: np.ndarray, labels: list[str]):
    present = len(set(targets)) == len(labels)  # AUC needs every class among the test rows
    if not present:
        return MetricValue(aggregate_results={"roc_auc": float("nan")})
    if len(labels) == 2:
        auc = sk_metrics.roc_auc_score(targets == labels[1], proba[:, 1])
    else:
        auc = sk_metrics.roc_auc_score(targets, _normalized(proba), labels=labels, multi_class="ovr")
    return MetricValue(aggregate_results={"roc_auc": float(auc)})


def _normalized(proba: np.ndarray) -> np.ndarray:
    """Rows that sum to 1 exactly, as scikit-learn requires (float32 softmax sums are off by ~1e-7)."""
    return proba / proba.sum(axis=1, keepdims=True)


def _curves(proba: np.ndarray, labels: list[str]) -> Callable:
    """One-vs-rest ROC and precision-recall curves, one line per class (the positive class when binary)."""

    def roc_and_pr_curves(eval_df: pd.DataFrame, builtin_metrics: dict, artifacts_dir: str) -> dict[str, str]:
        truth = eval_df["target"].astype(str).to_numpy()
        shown = [1] if len(labels) == 2 else range(len(labels))
        paths = {}
        for kind, display, title in (("roc_curve", sk_metrics.RocCurveDisplay, "ROC curve"),
                                     ("pr_curve", sk_metrics.PrecisionRecallDisplay, "Precision-recall curve")):
            with RENDER_LOCK:
                figure = Figure(figsize=(6, 5))
                axes = figure.subplots()
                for i in shown:
                    if (truth == labels[i]).any():
                        display.from_predictions(truth == labels[i], proba[:, i], name=f"class {labels[i]}",
                                                 ax=axes)
                axes.set_title(f"{title}, test split")
                paths[kind] = _save(figure, Path(artifacts_dir) / f"{kind}.png")
        return paths

    return roc_and_pr_curves


def _residuals(eval_df: pd.DataFrame, builtin_metrics: dict, artifacts_dir: str) -> dict[str, str]:
    """Residuals against predictions: a shape in it is what the model has not learnt."""
    predicted = eval_df["prediction"].to_numpy(dtype="float64")
    residual = eval_df["target"].to_numpy(dtype="float64") - predicted
    with RENDER_LOCK:
        figure = Figure(figsize=(6, 5))
        axes = figure.subplots()
        axes.scatter(predicted, residual, s=12, alpha=0.6)
        axes.axhline(0.0, color="grey", linewidth=1)
        axes.set(xlabel="prediction", ylabel="target - prediction", title="Residuals, test split")
        return {"residual_plot": _save(figure, Path(artifacts_dir) / "residual_plot.png")}


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()  # cheaper than savefig's bbox_inches="tight", which draws the figure twice
    figure.savefig(path, dpi=100)
    return str(path)
