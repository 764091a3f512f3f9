"""A regression task end to end on the bundled diabetes set: every stage selects on val_loss (lower is
better; the adaptive loop keeps a step only when it lowers the loss by more than the noise margin), promotion
scores the test rows in mean squared error, and the champion predicts raw rows."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from flows.__main__ import main
from flows.tasks import prepare_data
from training.config import PipelineConfig

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def split(regression_pipeline):
    options = {k: v for k, v in regression_pipeline.options.items() if k in PipelineConfig.model_fields}
    return prepare_data.fn(PipelineConfig(**options)).split


def test_every_stage_selects_the_lowest_validation_loss(regression_pipeline):
    result, client = regression_pipeline.result, regression_pipeline.client
    assert result.metric == "val_loss"
    assert [s.stage for s in result.stages] == ["baseline", "capacity", "regularization", "schedule", "tuning"]
    for stage in result.stages:
        assert (stage.metric, stage.direction) == ("val_loss", "min")
        runs = client.search_runs([client.get_run(stage.run_id).info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{stage.run_id}' and tags.kind = 'candidate'")
        recorded = {r.info.run_name: r.data.metrics["model_val_loss"] for r in runs}
        assert recorded == {c.name: c.score for c in stage.candidates if c.name not in stage.reused}
        if stage.stage == "baseline":
            assert stage.winner.score == min(recorded.values())
        else:  # the adaptive loop on val_loss: a step is kept only when its loss is lower by more than the margin
            assert stage.margin > 0 and stage.story
            base = stage.reference_result
            assert stage.winner is base or (stage.winner.score < base.score
                                            and stage.decisions[stage.winner.name].endswith(": kept")), stage.story
        for key in ("loss", "val_loss", "mae", "val_mae"):  # the curves, per epoch, in MLflow
            steps = [m.step for m in client.get_metric_history(stage.winner.run_id, key)]
            assert steps == list(range(1, stage.winner.epochs_run + 1)), (stage.stage, key)
    # The winner of a stage is the next stage's base.
    for previous, stage in zip(result.stages, result.stages[1:], strict=False):
        assert next(c for c in stage.candidates if c.name == "base").spec == previous.winner.spec


def test_the_champion_predicts_raw_rows_in_the_targets_units(regression_pipeline, split):
    pipeline = regression_pipeline
    promotion = pipeline.result.promotion
    assert (promotion.version, promotion.alias, promotion.test_metric) == ("1", "champion", "test_loss")
    mlflow.set_tracking_uri(pipeline.uri)
    raw = split.test_frame.drop(columns=["target"])
    predictions = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion").predict(raw)
    assert list(predictions.columns) == ["prediction"] and len(predictions) == len(raw) == 88
    truth = split.test_frame["target"].to_numpy(dtype="float64")
    mse = float(np.mean((predictions["prediction"].to_numpy() - truth) ** 2))
    assert mse == pytest.approx(promotion.test_score, rel=1e-6)
    version = pipeline.client.get_model_version(pipeline.model_name, "1")
    assert float(version.tags["test_loss"]) == pytest.approx(mse, rel=1e-6)
    assert version.tags["selection.metric"] == "val_loss" and version.tags["selection.direction"] == "min"
    # MLflow's regressor evaluation on the promotion run: the gate's metric is the test MSE, in target units.
    metrics = pipeline.client.get_run(version.run_id).data.metrics
    assert metrics["test_mean_squared_error"] == pytest.approx(mse, rel=1e-6)
    assert {"test_mean_absolute_error", "test_root_mean_squared_error", "test_r2_score"} <= set(metrics)
    assert "residual_plot.png" in {a.path for a in pipeline.client.list_artifacts(version.run_id)}


def test_predict_cli_writes_the_champions_predictions(regression_pipeline, split, tmp_path, capsys):
    pipeline = regression_pipeline
    split.test_frame.to_csv(tmp_path / "rows.csv", index=False)
    code = main(["predict", "--data", str(tmp_path / "rows.csv"), "--model-name", pipeline.model_name, "--out",
                 str(tmp_path / "predictions.parquet"), "--tracking-uri", pipeline.uri])
    assert code == 0, capsys.readouterr().err
    written = pd.read_parquet(tmp_path / "predictions.parquet")
    mlflow.set_tracking_uri(pipeline.uri)
    expected = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion").predict(
        split.test_frame.drop(columns=["target"]))
    np.testing.assert_allclose(written["prediction"].to_numpy(), expected["prediction"].to_numpy(), rtol=1e-6)
