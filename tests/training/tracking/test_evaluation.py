"""MLflow's evaluation of a model's test predictions, and MLflow's gate between two evaluations."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models.evaluation import EvaluationResult
from sklearn import metrics as sk

from training.config import Gate, Selection
from training.method.scoring import score_predictions
from training.tracking.evaluation import evaluate_predictions, gate_failure

ACC, LOSS = Selection("val_accuracy", "max"), Selection("val_loss", "min")


@pytest.fixture
def run(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("evaluation")
    with mlflow.start_run() as active:
        yield active.info.run_id


def classified(classes, n, seed):
    rng = np.random.default_rng(seed)
    truth = pd.Series([classes[i] for i in rng.integers(0, len(classes), n)])
    proba = rng.dirichlet(np.ones(len(classes)), n).astype("float32")  # a softmax's float32 rows
    proba[np.arange(n), [classes.index(t) for t in truth]] += 0.5  # better than chance
    proba /= proba.sum(axis=1, keepdims=True)
    out = pd.DataFrame({"prediction": [classes[i] for i in proba.argmax(axis=1)]})
    for i, c in enumerate(classes):
        out[f"proba_{c}"] = proba[:, i]
    return out, truth, proba


def artifacts(run_id):
    return {a.path for a in mlflow.MlflowClient().list_artifacts(run_id)}


def test_a_classifier_gets_mlflows_metrics_and_plots_and_the_probability_ones(run):
    classes = [0, 1, 2]
    predictions, truth, proba = classified(classes, 80, seed=1)
    result = evaluate_predictions(predictions, truth, "classification", classes)
    labels = truth.astype(str)
    expected = {"test_accuracy_score": sk.accuracy_score(labels, predictions["prediction"].astype(str)),
                "test_f1_score": sk.f1_score(labels, predictions["prediction"].astype(str), average="weighted"),
                "test_log_loss": score_predictions(predictions, truth, "classification", "loss"),  # the baselines' too
                "test_roc_auc": sk.roc_auc_score(labels, proba / proba.sum(axis=1, keepdims=True), multi_class="ovr")}
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-6), name
    logged = mlflow.MlflowClient().get_run(run).data.metrics
    assert {name: logged[name] for name in expected} == pytest.approx(expected, rel=1e-6)
    assert {"test_confusion_matrix.png", "roc_curve.png", "pr_curve.png", "test_predictions.json"} <= \
        artifacts(run)


def test_a_binary_classifier_scores_the_positive_class(run):
    classes = ["no", "yes"]
    predictions, truth, proba = classified(classes, 60, seed=2)
    result = evaluate_predictions(predictions, truth, "classification", classes)
    assert result.metrics["test_roc_auc"] == pytest.approx(sk.roc_auc_score(truth == "yes", proba[:, 1]))
    assert result.metrics["test_precision_score"] == pytest.approx(
        sk.precision_score(truth, predictions["prediction"], pos_label="yes"))


def test_a_regressor_gets_mae_rmse_r2_and_a_residual_plot(run):
    rng = np.random.default_rng(3)
    truth = pd.Series(rng.normal(150, 50, 70))
    predictions = pd.DataFrame({"prediction": truth + rng.normal(0, 20, 70)})
    result = evaluate_predictions(predictions, truth, "regression", [])
    assert result.metrics["test_mean_absolute_error"] == pytest.approx(sk.mean_absolute_error(truth, predictions))
    assert result.metrics["test_root_mean_squared_error"] == pytest.approx(
        np.sqrt(sk.mean_squared_error(truth, predictions)))
    assert result.metrics["test_r2_score"] == pytest.approx(sk.r2_score(truth, predictions))
    assert "residual_plot.png" in artifacts(run)


def evaluation(**metrics):
    return EvaluationResult(metrics={f"test_{k}": v for k, v in metrics.items()}, artifacts={})


def test_the_gate_is_mlflows_validation_with_the_configured_margins():
    champion = evaluation(accuracy_score=0.90, log_loss=0.30)
    assert gate_failure(evaluation(accuracy_score=0.91), champion, "classification", ACC, Gate()) is None
    tie = gate_failure(evaluation(accuracy_score=0.90), champion, "classification", ACC, Gate())
    assert "test_accuracy_score minimum absolute change check failed" in tie  # a tie keeps the champion
    short = gate_failure(evaluation(accuracy_score=0.905), champion, "classification", ACC, Gate(min_absolute=0.01))
    assert "candidate model test_accuracy_score = 0.905" in short and "threshold = 0.01" in short
    assert gate_failure(evaluation(accuracy_score=0.915), champion, "classification", ACC,
                        Gate(min_absolute=0.01)) is None
    relative = gate_failure(evaluation(log_loss=0.29), champion, "classification", LOSS, Gate(min_relative=0.05))
    assert "test_log_loss minimum relative change check failed" in relative  # 3% better, 5% asked
    assert gate_failure(evaluation(log_loss=0.28), champion, "classification", LOSS, Gate(min_relative=0.05)) is None
    # A tie keeps the champion at any scale: a fixed 1e-12 margin would vanish next to an MSE of 30000.
    large = evaluation(mean_squared_error=30000.0)
    assert gate_failure(evaluation(mean_squared_error=30000.0), large, "regression", LOSS, Gate()) is not None
    assert gate_failure(evaluation(mean_squared_error=29999.9), large, "regression", LOSS, Gate()) is None
    regression = evaluation(mean_squared_error=3000.0)
    assert gate_failure(evaluation(mean_squared_error=2900.0), regression, "regression", LOSS,
                        Gate(min_absolute=50.0)) is None
    assert gate_failure(evaluation(mean_squared_error=2990.0), regression, "regression", LOSS,
                        Gate(min_absolute=50.0)) is not None
