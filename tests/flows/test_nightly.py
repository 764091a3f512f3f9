"""Nightly retraining is idempotent: same data, code and config as the last finished run -> nothing trained."""

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e

TINY = {"data": "iris", "profile": "quick", "capacity_units": [[8]], "dropout_rates": [0.2],
        "schedule_variants": ["early-stopping"], "tuner": "random", "max_trials": 1, "experiment": "nightly-test",
        "model_name": "iris-test"}


def test_unchanged_night_is_skipped_and_force_trains(prefect_harness, tracking_uri, tmp_path):
    from flows.pipeline import training_pipeline

    run = {**TINY, "tracking_uri": tracking_uri, "work_dir": str(tmp_path)}
    first = training_pipeline(**run)
    assert first.unchanged_since is None and first.promotion.version == "1"
    client = MlflowClient(tracking_uri)
    experiment_id = client.get_experiment_by_name("nightly-test").experiment_id
    candidates = len(client.search_runs([experiment_id], "tags.kind = 'candidate'"))

    second = training_pipeline(**run)
    assert second.unchanged_since == first.pipeline_run_id
    assert len(client.search_runs([experiment_id], "tags.kind = 'candidate'")) == candidates
    tags = client.get_run(second.pipeline_run_id).data.tags
    assert (tags["outcome"], tags["outcome.same_as"]) == ("no change", first.pipeline_run_id)
    assert len(client.search_model_versions("name = 'iris-test'")) == 1

    forced = training_pipeline(**run, force=True)
    assert forced.unchanged_since is None and forced.promotion.version == "2"
    other_seed = training_pipeline(**{**run, "seed": 7})
    assert other_seed.unchanged_since is None  # another config is another night's work


def test_parallel_candidates_give_the_same_run_tree(prefect_harness, tracking_uri, tmp_path):
    from flows.pipeline import training_pipeline

    result = training_pipeline(**{**TINY, "experiment": "parallel-test", "model_name": "iris-parallel"},
                               tracking_uri=tracking_uri, work_dir=str(tmp_path), max_parallel=2)
    assert [s.stage for s in result.stages] == ["baseline", "capacity", "regularization", "schedule", "tuning"]
    assert [[c.name for c in s.candidates] for s in result.stages[1:4]] == [
        ["base", "units-8"], ["base", "dropout-0.2", "batchnorm"], ["base", "early-stopping"]]
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("parallel-test").experiment_id])
    assert runs and all(r.info.status == "FINISHED" for r in runs)
    for stage in result.stages:
        assert stage.winner.score == max(c.score for c in stage.candidates)
