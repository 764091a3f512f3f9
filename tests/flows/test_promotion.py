"""Promotion after a real quick pipeline: registry versions, the champion gate, rollback, predict, serve."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest

from flows.promotion import promotion_stage
from flows.tasks import prepare_data
from training.config import PipelineConfig
from training.registry import Registry

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(quick_pipeline):
    mlflow.set_tracking_uri(quick_pipeline.uri)
    registry = Registry(quick_pipeline.client, quick_pipeline.model_name)
    split = prepare_data.fn(PipelineConfig(profile="quick")).split
    return quick_pipeline, registry, split


def promote(pipeline):
    return promotion_stage(pipeline.result.pipeline_run_id, "pipeline-test", pipeline.uri, pipeline.model_name)


def cli(*args, uri):
    return subprocess.run([sys.executable, "-m", "flows", *args, "--tracking-uri", uri], capture_output=True,
                          text=True, timeout=300)


def test_the_pipeline_registered_its_best_candidate_as_the_first_champion(env):
    pipeline, registry, split = env
    promotion = pipeline.result.promotion
    assert (promotion.version, promotion.alias, promotion.reason) == ("1", "champion", "first registered model")
    version = registry.version("1")
    tags = version.tags
    assert tags["data.fingerprint"] == split.fingerprint
    assert tags["pipeline.run_id"] == pipeline.result.pipeline_run_id
    assert float(tags["test_accuracy"]) == pytest.approx(promotion.test_score)
    best = max(c.score for s in pipeline.result.stages for c in s.candidates)
    assert float(tags["val_accuracy"]) == pytest.approx(best)
    assert {"stage", "variant", "param_count", "candidate.run_id", "diagnosis.regime", "diagnosis.advice"} <= set(tags)
    assert "## Scores" in version.description and split.fingerprint in version.description
    assert [(m.alias, m.to_version) for m in registry.history()] == [("champion", "1")]

    champion = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion")
    predictions = champion.predict(split.test_frame.drop(columns=["target"]))
    assert list(predictions.columns) == ["prediction"] + [f"proba_{c}" for c in range(10)]
    accuracy = float(np.mean(predictions["prediction"].to_numpy() == split.test_frame["target"].to_numpy()))
    assert accuracy == pytest.approx(promotion.test_score)


def test_a_model_that_does_not_beat_the_champion_becomes_challenger(env):
    pipeline, registry, _ = env
    again = promote(pipeline)  # the same best model: equal, not better, on the same test rows
    assert (again.version, again.alias, again.champion_version) == ("2", "challenger", "1")
    assert str(registry.version_by_alias("champion").version) == "1"
    assert str(registry.version_by_alias("challenger").version) == "2"


def test_a_champion_from_other_data_is_scored_again_on_todays_test_rows(env):
    pipeline, registry, _ = env
    pipeline.client.set_model_version_tag(pipeline.model_name, "1", "data.fingerprint", "older-split")
    try:
        result = promote(pipeline)
    finally:
        pipeline.client.set_model_version_tag(pipeline.model_name, "1", "data.fingerprint",
                                              registry.version("2").tags["data.fingerprint"])
    assert result.champion_score == pytest.approx(float(registry.version("1").tags["test_accuracy"]))
    assert (result.version, result.alias) == ("3", "challenger")


def test_a_failed_registration_leaves_the_registry_as_it_was(env, monkeypatch):
    pipeline, registry, _ = env
    before = ([str(v.version) for v in pipeline.client.search_model_versions(f"name = '{pipeline.model_name}'")],
              registry.history())

    def broken(*args, **kwargs):
        raise RuntimeError("registry unreachable")

    monkeypatch.setattr(Registry, "register", broken)
    with pytest.raises(RuntimeError, match="registry unreachable"):
        promote(pipeline)
    after = ([str(v.version) for v in pipeline.client.search_model_versions(f"name = '{pipeline.model_name}'")],
             registry.history())
    assert after == before
    assert str(registry.version_by_alias("champion").version) == "1"
    runs = pipeline.client.search_runs([pipeline.client.get_run(pipeline.result.pipeline_run_id).info.experiment_id],
                                       "tags.stage = 'promotion'", order_by=["attributes.start_time DESC"])
    assert runs[0].info.status == "FAILED"


def test_predict_cli_scores_raw_rows_like_the_model_on_the_preprocessed_split(env, tmp_path):
    pipeline, _, split = env
    raw = tmp_path / "raw.csv"
    split.test_frame.to_csv(raw, index=False)  # unscaled columns, target included (ignored)
    out = tmp_path / "predictions.csv"
    done = cli("predict", "--data", str(raw), "--model-name", pipeline.model_name, "--out", str(out),
               uri=pipeline.uri)
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = pd.read_csv(out)
    assert len(predictions) == len(split.test_frame)
    network = mlflow.keras.load_model(next(c for s in pipeline.result.stages for c in s.candidates
                                           if c.run_id == pipeline.result.promotion.candidate_run_id).model_uri)
    expected = network.predict(split.x_test, verbose=0)
    np.testing.assert_allclose(predictions[[f"proba_{c}" for c in range(10)]].to_numpy(), expected, atol=1e-5)
    assert predictions["prediction"].tolist() == expected.argmax(axis=1).tolist()


def test_predict_cli_names_an_unscorable_row(env, tmp_path):
    pipeline, _, split = env
    frame = split.test_frame.head(3).astype({"pixel_0_1": object})
    frame.loc[1, "pixel_0_1"] = "dark"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    done = cli("predict", "--data", str(tmp_path / "bad.csv"), "--model-name", pipeline.model_name, "--out",
               str(tmp_path / "out.csv"), uri=pipeline.uri)
    assert done.returncode == 2
    assert "column 'pixel_0_1' is not a finite number in row(s) 2" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_rollback_and_history_cli(env):
    pipeline, registry, _ = env
    done = cli("rollback", "--to", "2", "--model-name", pipeline.model_name, uri=pipeline.uri)
    assert done.returncode == 0, done.stderr
    assert str(registry.version_by_alias("champion").version) == "2"
    done = cli("rollback", "--model-name", pipeline.model_name, uri=pipeline.uri)
    assert done.returncode == 0, done.stderr
    assert "champion: 2 -> 1  (rollback)" in done.stdout  # walks back the explicit move to 2
    assert str(registry.version_by_alias("champion").version) == "1"
    done = cli("history", "--model-name", pipeline.model_name, "--at", "2000-01-01T00:00", uri=pipeline.uri)
    lines = done.stdout.strip().splitlines()
    assert [line.split("  ")[1] for line in lines[:-1]] == [
        "champion: - -> 1", "challenger: - -> 2", "challenger: 2 -> 3", "champion: 1 -> 2", "champion: 2 -> 1"]
    assert lines[-1] == "champion at 2000-01-01T00:00: version (none)"


def test_the_champion_serves_with_mlflow_models_serve(env):
    pipeline, _, split = env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "mlflow"), "models", "serve", "-m",
         f"models:/{pipeline.model_name}@champion", "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        # As from an activated venv: the scoring server starts `uvicorn` from PATH.
        env={**os.environ, "MLFLOW_TRACKING_URI": pipeline.uri,
             "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "mlflow models serve exited"
                assert time.monotonic() < deadline, "the model server did not answer within 180 s"
                time.sleep(1)
        rows = split.test_frame.drop(columns=["target"]).head(5)
        body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            served = pd.DataFrame(json.load(response)["predictions"])
        local = mlflow.pyfunc.load_model(f"models:/{pipeline.model_name}@champion").predict(rows)
        assert served["prediction"].tolist() == local["prediction"].tolist()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def test_two_promotions_at_once_are_serialized_and_the_better_model_ends_champion(env, monkeypatch):
    import threading

    import flows.promotion

    pipeline, _, _ = env
    name = "concurrent-test"
    real_score, real_read = flows.promotion.score_predictions, Registry.version_by_alias

    def score(*args, **kwargs):  # the thread named "better" brings the better model
        bonus = 0.01 if threading.current_thread().name == "better" else 0.0
        return real_score(*args, **kwargs) + bonus

    def slow_read(self, alias):  # widen the window between reading the champion and moving the alias
        found = real_read(self, alias)
        time.sleep(1.5)
        return found

    monkeypatch.setattr(flows.promotion, "score_predictions", score)
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


def test_a_promotion_that_died_after_registering_is_not_registered_again(env, monkeypatch):
    from flows.promotion import finished_promotion
    from flows.tasks import connect

    pipeline, registry, _ = env
    tracker = connect(PipelineConfig(experiment="pipeline-test", tracking_uri=pipeline.uri))
    run_id = pipeline.result.pipeline_run_id
    # This module promoted the same pipeline run several times: the latest finished promotion is reused.
    latest = finished_promotion(tracker, run_id, pipeline.model_name)
    assert registry.version(latest.version).tags["pipeline.run_id"] == run_id
    # As if the attempt died between registering and finishing its promotion run: the version is found.
    monkeypatch.setattr(tracker, "finished_child", lambda *args: None)
    found = finished_promotion(tracker, run_id, pipeline.model_name)
    version = registry.version(found.version)
    assert version.tags["pipeline.run_id"] == run_id
    assert found.test_score == pytest.approx(float(version.tags["test_accuracy"]))
    assert finished_promotion(tracker, "0" * 32, pipeline.model_name) is None
