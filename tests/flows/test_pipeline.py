"""The quick pipeline under a temporary Prefect API, checked through MlflowClient."""

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline_run(prefect_harness, tmp_path_factory):
    from flows.pipeline import training_pipeline

    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    result = training_pipeline(profile="quick", tracking_uri=uri, experiment="pipeline-test")
    return result, MlflowClient(uri), uri


def test_run_tree(pipeline_run):
    result, client, _ = pipeline_run
    experiment = client.get_experiment_by_name("pipeline-test")
    runs = client.search_runs([experiment.experiment_id])
    by_id = {r.info.run_id: r for r in runs}
    assert all(r.info.status == "FINISHED" for r in runs)
    pipeline = by_id[result.pipeline_run_id]
    assert pipeline.data.tags["stage"] == "pipeline"
    assert pipeline.data.tags["data.fingerprint"] == result.fingerprint
    assert pipeline.data.tags["prefect.flow_run_id"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == result.pipeline_run_id]
    assert sorted(r.data.tags["stage"] for r in children) == ["baseline", "split"]
    baseline = next(r for r in children if r.data.tags["stage"] == "baseline")
    candidates = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == baseline.info.run_id]
    assert [(r.info.run_name, r.data.tags["stage"]) for r in candidates] == [("base", "baseline")]
    assert baseline.data.tags["winner"] == "base"
    assert len(runs) == 4


def test_split_run_records_the_data(pipeline_run):
    result, client, _ = pipeline_run
    split = next(r for r in client.search_runs(
        [client.get_experiment_by_name("pipeline-test").experiment_id], "tags.stage = 'split'"))
    assert split.data.metrics["rows_train"] == 1151
    assert split.data.metrics["rows_val"] == 287
    assert split.data.metrics["rows_test"] == 359
    assert split.data.params["fingerprint"] == result.fingerprint
    assert split.inputs.dataset_inputs[0].dataset.name == "digits"
    paths = {a.path for a in client.list_artifacts(split.info.run_id, "split")}
    assert paths == {"split/summary.json"}


def test_candidate_has_spec_curves_diagnosis_and_model(pipeline_run):
    result, client, uri = pipeline_run
    candidate = result.stages[0].winner
    run = client.get_run(candidate.run_id)
    assert run.data.params["units"] == "128-64"
    assert run.data.params["epochs"] == "3"
    assert run.data.params["dropout"] == "0.0"
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"):
        history = client.get_metric_history(candidate.run_id, key)
        assert sorted(m.step for m in history) == [1, 2, 3], key
    assert run.data.metrics["fit_seconds"] > 0
    assert run.data.metrics["best_epoch"] == candidate.diagnosis.best_epoch
    assert run.data.tags["diagnosis.regime"] in {"underfitting", "overfitting", "good fit"}
    assert run.data.tags["stage"] == "baseline"
    assert {a.path for a in client.list_artifacts(candidate.run_id, "plots")} == {"plots/learning_curves.png"}

    mlflow.set_tracking_uri(uri)
    model = mlflow.keras.load_model(candidate.model_uri)
    from flows.tasks import prepare_data
    from training.config import PipelineConfig

    split = prepare_data.fn(PipelineConfig(profile="quick")).split
    probabilities = model.predict(split.x_val, verbose=0)
    assert probabilities.shape == (287, 10)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == split.y_val))
    assert accuracy == pytest.approx(run.data.metrics["model_val_accuracy"], abs=1e-6)
