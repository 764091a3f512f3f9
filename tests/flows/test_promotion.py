"""Promotion after a real quick pipeline: registry versions, the champion gate, predict, serve; each test that
promotes registers a model of its own, so the tests pass alone and in any order."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

import training.serving
import training.tracking.registration
from flows.__main__ import main
from flows.promotion import promotion_stage
from flows.tasks import prepare_data
from tests.support import free_port, wait_for_http
from training.config import PipelineConfig
from training.tracking.registry import Registry

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(quick_pipeline):
    mlflow.set_tracking_uri(quick_pipeline.uri)  # for models:/ URIs; other modules point it elsewhere
    registry = Registry(quick_pipeline.client, quick_pipeline.model_name)
    split = prepare_data.fn(PipelineConfig(profile="quick")).split
    return quick_pipeline, registry, split


@pytest.fixture
def model_name(request):
    """A registered model of this test alone: what it promotes changes nothing another test reads."""
    return "promo-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[-40:]


def promote(pipeline, model_name: str, **gate):
    return promotion_stage(pipeline.result.pipeline_run_id, "pipeline-test", pipeline.uri, model_name, **gate)


def cli(*args, uri) -> int:
    """The CLI in this process (its own process is tested in tests/flows/test_cli.py): the exit status."""
    return main([*args, "--tracking-uri", uri])


def test_the_pipeline_registered_its_best_candidate_as_the_first_champion(env):
    pipeline, registry, split = env
    promotion = pipeline.result.promotion
    assert (promotion.version, promotion.alias, promotion.reason) == ("1", "champion", "first registered model")
    version = registry.version("1")
    tags = version.tags
    assert tags["data.fingerprint"] == split.fingerprint
    assert tags["pipeline.run_id"] == pipeline.result.pipeline_run_id
    assert float(tags["test_accuracy"]) == pytest.approx(promotion.test_score)
    # The adaptive pipeline's selected winner (the last stage's), not the highest validation score anywhere: a
    # higher one within the noise margin is not a better model.
    selected = pipeline.result.stages[-1].winner
    assert tags["candidate.run_id"] == selected.run_id
    assert float(tags["val_accuracy"]) == pytest.approx(selected.score)
    assert {"stage", "variant", "param_count", "candidate.run_id", "diagnosis.regime", "diagnosis.advice"} <= set(tags)
    assert "## Scores" in version.description and split.fingerprint in version.description
    assert [(m.alias, m.to_version) for m in registry.history()] == [("champion", "1")]
    # Beside the network: the dummy and linear baselines on the same test rows, on the promotion run, the
    # version's tags and its card; the network beats the dummy (else it would not be champion).
    baselines = promotion.baselines
    assert set(baselines) == {"dummy", "linear"} and baselines["dummy"] < promotion.test_score
    assert float(tags["baseline.dummy.test_accuracy"]) == pytest.approx(baselines["dummy"])
    assert tags["baseline.dummy.beaten"] == "true"
    assert "## Baselines" in version.description and "LogisticRegression" in version.description
    promotion_run = pipeline.client.get_run(version.run_id)
    assert promotion_run.data.metrics["linear_test_accuracy"] == pytest.approx(baselines["linear"])
    assert promotion_run.data.params["baseline.dummy"] == "DummyClassifier(prior)"
    # MLflow's evaluation on the promotion run, linked from the version: its metrics, plots and the gate's metric.
    metrics = promotion_run.data.metrics
    assert metrics["test_accuracy_score"] == pytest.approx(promotion.test_score)
    assert {"test_f1_score", "test_roc_auc", "test_log_loss", "test_precision_score"} <= set(metrics)
    plots = {a.path for a in pipeline.client.list_artifacts(version.run_id)}
    assert {"test_confusion_matrix.png", "roc_curve.png", "pr_curve.png", "test_predictions.json"} <= plots
    assert tags["evaluation.run_id"] == version.run_id
    assert float(tags["evaluation.test_roc_auc"]) == pytest.approx(metrics["test_roc_auc"])
    assert "## Evaluation on the test split" in version.description
    logged_model = mlflow.get_logged_model(version.source.removeprefix("models:/"))
    assert {m.key for m in logged_model.metrics} >= {"test_accuracy_score", "test_roc_auc"}
    # A typed signature and an input example travel with it (tests/training/serving/test_predict.py checks both).
    info = mlflow.models.get_model_info(f"models:/{pipeline.model_name}@champion")
    assert {c.type.name for c in info.signature.inputs.inputs} == {"double"}
    assert info.saved_input_example_info["serving_input_path"] == "serving_input_example.json"

    champion = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion")
    predictions = champion.predict(split.test_frame.drop(columns=["target"]))
    assert list(predictions.columns) == ["prediction"] + [f"proba_{c}" for c in range(10)]
    accuracy = float(np.mean(predictions["prediction"].to_numpy() == split.test_frame["target"].to_numpy()))
    assert accuracy == pytest.approx(promotion.test_score)


def candidate_better_by(bonus: float, only_in_thread: str | None = None):
    """MLflow's evaluation, with `bonus` added to the new model's accuracy (not the champion's), as if the new
    model were that much better; in one thread only, if named."""
    real = training.tracking.registration.evaluate_predictions

    def evaluate(*args, model_id=None, **kwargs):
        result = real(*args, model_id=model_id, **kwargs)
        thread = threading.current_thread().name
        if model_id is not None and only_in_thread in (None, thread):  # the champion's has no model id
            result.metrics["test_accuracy_score"] += bonus
        return result

    return evaluate


def test_a_model_that_does_not_pass_the_gate_becomes_challenger(env, model_name, monkeypatch):
    pipeline, _, _ = env
    first = promote(pipeline, model_name)
    assert (first.version, first.alias, first.reason) == ("1", "champion", "first registered model")
    again = promote(pipeline, model_name)  # the same best model: equal, not better, on the same test rows
    assert (again.version, again.alias, again.champion_version) == ("2", "challenger", "1")
    assert "does not pass the gate" in again.reason and "minimum absolute change check failed" in again.reason
    # MLflow evaluated the champion again on today's test rows, in a child run of the promotion run.
    assert again.champion_score == pytest.approx(first.test_score)
    promotion_run = Registry(pipeline.client, model_name).version("2").run_id
    champion_runs = pipeline.client.search_runs(
        [pipeline.client.get_run(promotion_run).info.experiment_id],
        f"tags.mlflow.parentRunId = '{promotion_run}' and tags.`champion.version` = '1'")
    assert [r.info.status for r in champion_runs] == ["FINISHED"]
    assert champion_runs[0].data.metrics["test_accuracy_score"] == pytest.approx(first.test_score)
    registry = Registry(pipeline.client, model_name)
    assert str(registry.version_by_alias("champion").version) == "1"
    assert str(registry.version_by_alias("challenger").version) == "2"
    assert [(m.alias, m.from_version, m.to_version) for m in registry.history()] == [
        ("champion", None, "1"), ("challenger", None, "2")]
    # The gate's margins come from the config: better by 0.005 is not enough where 0.01 is asked, 0.02 is.
    monkeypatch.setattr(training.tracking.registration, "evaluate_predictions", candidate_better_by(0.005))
    short = promote(pipeline, model_name, min_improvement=0.01)
    assert short.alias == "challenger"
    assert f"candidate model test_accuracy_score = {first.test_score + 0.005}" in short.reason
    assert "minimum absolute change threshold = 0.01" in short.reason
    monkeypatch.setattr(training.tracking.registration, "evaluate_predictions", candidate_better_by(0.02))
    enough = promote(pipeline, model_name, min_improvement=0.01)
    assert (enough.version, enough.alias, enough.champion_version) == ("4", "champion", "1")
    assert enough.reason.startswith("passes the gate against the champion")


def test_a_failed_registration_leaves_the_registry_as_it_was(env, monkeypatch):
    pipeline, registry, _ = env
    before = ([str(v.version) for v in pipeline.client.search_model_versions(f"name = '{pipeline.model_name}'")],
              registry.history())
    champion = registry.version_by_alias("champion").version

    def broken(*args, **kwargs):
        raise RuntimeError("registry unreachable")

    monkeypatch.setattr(Registry, "register", broken)
    with pytest.raises(RuntimeError, match="registry unreachable"):
        promote(pipeline, pipeline.model_name)
    after = ([str(v.version) for v in pipeline.client.search_model_versions(f"name = '{pipeline.model_name}'")],
             registry.history())
    assert after == before
    assert registry.version_by_alias("champion").version == champion
    runs = pipeline.client.search_runs([pipeline.client.get_run(pipeline.result.pipeline_run_id).info.experiment_id],
                                       "tags.stage = 'promotion'", order_by=["attributes.start_time DESC"])
    assert runs[0].info.status == "FAILED"


def test_predict_cli_scores_raw_rows_like_the_model_on_the_preprocessed_split(env, tmp_path, capsys):
    pipeline, _, split = env
    raw = tmp_path / "raw.csv"
    split.test_frame.to_csv(raw, index=False)  # unscaled columns, target included (ignored)
    out = tmp_path / "predictions.csv"
    code = cli("predict", "--data", str(raw), "--model-name", pipeline.model_name, "--out", str(out),
               uri=pipeline.uri)
    assert code == 0, capsys.readouterr().err[-3000:]
    assert f"{len(split.test_frame)} prediction(s) from models:/{pipeline.model_name}@champion" in \
        capsys.readouterr().out
    predictions = pd.read_csv(out)
    assert len(predictions) == len(split.test_frame)
    network = mlflow.keras.load_model(next(c for s in pipeline.result.stages for c in s.candidates
                                           if c.run_id == pipeline.result.promotion.candidate_run_id).model_uri)
    expected = network.predict(split.x_test, verbose=0)
    np.testing.assert_allclose(predictions[[f"proba_{c}" for c in range(10)]].to_numpy(), expected, atol=1e-5)
    assert predictions["prediction"].tolist() == expected.argmax(axis=1).tolist()


def test_predict_cli_names_an_unscorable_row(env, tmp_path, capsys):
    pipeline, _, split = env
    frame = split.test_frame.head(3).astype({"pixel_0_1": object})
    frame.loc[1, "pixel_0_1"] = "dark"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    code = cli("predict", "--data", str(tmp_path / "bad.csv"), "--model-name", pipeline.model_name, "--out",
               str(tmp_path / "out.csv"), uri=pipeline.uri)
    assert code == 2
    assert "column 'pixel_0_1' is not a finite number in row(s) 2" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.e2e
def test_the_champion_predicts_in_an_environment_of_its_own_requirements_only(env, tmp_path):
    """As a serving team checks a model before deploying it: MLflow builds a fresh virtualenv (uv) from the
    model's own requirements.txt, with no checkout and no pipeline installed, and predicts raw rows there."""
    pipeline, _, split = env
    rows = split.test_frame.drop(columns=["target"]).head(5)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    bin_dir = os.path.dirname(sys.executable)
    # A serving app with a `training` package of its own, first on its path: no clash with what the model carries.
    app = tmp_path / "app" / "training"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("raise ImportError('the serving app owns this name')\n")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(MLFLOW_TRACKING_URI=pipeline.uri, PYTHONPATH=str(app.parent),
                       PATH=bin_dir + os.pathsep + os.environ["PATH"])  # uv, as from an activated venv
    done = subprocess.run(
        [os.path.join(bin_dir, "mlflow"), "models", "predict", "-m", f"models:/{pipeline.model_name}@champion",
         "-i", str(tmp_path / "rows.csv"), "-t", "csv", "-o", str(tmp_path / "out.json"), "--env-manager", "uv"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # A new environment (MLflow makes one per call, in a temporary folder), TensorFlow installed into it.
    assert "virtualenv_envs/mlflow-" in done.stderr and "+ tensorflow==" in done.stderr, done.stderr[-3000:]
    served = pd.DataFrame(json.loads((tmp_path / "out.json").read_text())["predictions"])
    here = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion").predict(rows)
    pd.testing.assert_frame_equal(served, here, check_dtype=False)
    # What it carried: the served package whole, under its own name; nothing named `training`.
    model = Path(mlflow.artifacts.download_artifacts(f"models:/{pipeline.model_name}@champion", dst_path=tmp_path))
    assert [p.name for p in (model / "code").iterdir()] == ["keras_mlops_serving"]
    assert not (model / "uv.lock").exists() and not (model / "pyproject.toml").exists()  # its own requirements
    assert sorted(p.name for p in (model / "code" / "keras_mlops_serving").glob("*.py")) == sorted(
        p.name for p in (Path(training.serving.__file__).parent).glob("*.py"))


def test_the_champion_serves_with_mlflow_models_serve(env, processes):
    pipeline, _, split = env
    port = free_port()
    server = processes.start(
        [os.path.join(os.path.dirname(sys.executable), "mlflow"), "models", "serve", "-m",
         f"models:/{pipeline.model_name}@champion", "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        # As from an activated venv: the scoring server starts `uvicorn` from PATH.
        env={**os.environ, "MLFLOW_TRACKING_URI": pipeline.uri,
             "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    wait_for_http(f"http://127.0.0.1:{port}/ping", server, timeout=180)
    rows = split.test_frame.drop(columns=["target"]).head(5)
    body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        served = pd.DataFrame(json.load(response)["predictions"])
    local = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion").predict(rows)
    assert served["prediction"].tolist() == local["prediction"].tolist()


def test_two_promotions_at_once_are_serialized_and_the_better_model_ends_champion(env, model_name, monkeypatch):
    pipeline, _, _ = env
    name = model_name
    real_read = Registry.version_by_alias

    def slow_read(self, alias):  # widen the window between reading the champion and moving the alias
        found = real_read(self, alias)
        time.sleep(1.5)
        return found

    # The thread named "better" brings the better model.
    monkeypatch.setattr(training.tracking.registration, "evaluate_predictions", candidate_better_by(0.01, "better"))
    monkeypatch.setattr(Registry, "version_by_alias", slow_read)
    results, errors = {}, []

    def promote_in(thread_name):
        try:
            results[thread_name] = promotion_stage(pipeline.result.pipeline_run_id, "pipeline-test", pipeline.uri,
                                                   name)
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=promote_in, args=(n,), name=n) for n in ("better", "worse")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    better, worse = results["better"], results["worse"]
    registry = Registry(pipeline.client, name)
    assert str(real_read(registry, "champion").version) == better.version
    moves = registry.history()
    assert [m.sequence for m in moves] == [1, 2]
    first, second = moves
    assert first.reason == "first registered model"
    # The second decision saw the first one's result: it compared, it did not crown a second "first" model.
    assert second.reason != "first registered model"
    assert second.details["champion_score"] is not None
    assert {first.to_version, second.to_version} == {better.version, worse.version}
    if first.to_version == worse.version:  # the worse model came first; the better one then took over
        assert (second.alias, second.from_version) == ("champion", worse.version)
    else:
        assert second.alias == "challenger"


def test_a_promotion_that_died_after_registering_is_not_registered_again(env, model_name, monkeypatch):
    from flows.tasks import connect
    from training.tracking.registration import finished_promotion

    pipeline, _, _ = env
    tracker = connect(PipelineConfig(experiment="pipeline-test", tracking_uri=pipeline.uri))
    run_id = pipeline.result.pipeline_run_id
    promoted = promote(pipeline, model_name)
    # A retry of the pipeline run reuses what its finished promotion run recorded.
    assert finished_promotion(tracker, run_id, model_name) == promoted
    # As if the attempt died between registering and finishing its promotion run: the version is found.
    monkeypatch.setattr(training.tracking.registration, "finished_child", lambda *args: None)
    found = finished_promotion(tracker, run_id, model_name)
    assert (found.version, found.alias, found.candidate_run_id) == ("1", "champion", promoted.candidate_run_id)
    assert found.test_score == pytest.approx(promoted.test_score)
    assert finished_promotion(tracker, "0" * 32, model_name) is None
