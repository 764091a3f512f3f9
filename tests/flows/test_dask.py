"""The quick pipeline with its candidates on a local Dask cluster of 2 worker processes: the same run tree
and the same winners, to the last digit of their scores, as the quick pipeline on threads (same data, config
and seed: every layer's initial weights come from that seed, not from whatever a worker's threads drew)."""

import os

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e


def tree(client: MlflowClient, pipeline_run_id: str) -> dict:
    """stage -> (candidate names, number of trials), as a person reads the run tree in the UI."""
    out = {}
    for stage in client.search_runs([client.get_run(pipeline_run_id).info.experiment_id],
                                    f"tags.mlflow.parentRunId = '{pipeline_run_id}'"):
        children = client.search_runs([stage.info.experiment_id], f"tags.mlflow.parentRunId = '{stage.info.run_id}'")
        out[stage.data.tags["stage"]] = (
            sorted(r.info.run_name for r in children if r.data.tags.get("kind") == "candidate"),
            sum(r.data.tags.get("kind") == "trial" for r in children))
    return out


@pytest.fixture(scope="module")
def dask_pipeline(quick_pipeline, tmp_path_factory):
    from flows.pipeline import training_pipeline

    uri = f"sqlite:///{tmp_path_factory.mktemp('dask-store') / 'mlflow.db'}"
    result = training_pipeline(profile="quick", tracking_uri=uri, experiment="pipeline-test",
                               work_dir=str(tmp_path_factory.mktemp("dask-work")), model_name="digits-test",
                               task_runner="dask", dask_workers=2)
    return result, MlflowClient(uri)


def test_same_run_tree_and_winners_as_on_threads(quick_pipeline, dask_pipeline):
    result, client = dask_pipeline
    threads = quick_pipeline.result
    assert tree(client, result.pipeline_run_id) == tree(quick_pipeline.client, threads.pipeline_run_id)
    assert [(s.stage, s.winner.name) for s in result.stages] == [(s.stage, s.winner.name) for s in threads.stages]
    assert [s.winner.score for s in result.stages] == [s.winner.score for s in threads.stages]
    assert result.promotion.version == "1" and result.promotion.alias == "champion"
    runs = client.search_runs([client.get_run(result.pipeline_run_id).info.experiment_id])
    assert all(r.info.status == "FINISHED" for r in runs)


def test_candidates_trained_in_the_worker_processes_as_children_of_their_stage(dask_pipeline):
    result, client = dask_pipeline
    for stage in result.stages:
        for candidate in stage.candidates:
            run = client.get_run(candidate.run_id)
            assert run.data.tags["mlflow.parentRunId"] == stage.run_id
            owner_pid = run.data.tags["owner.process"].rsplit("/", 2)[1]
            assert owner_pid != str(os.getpid()), (stage.stage, candidate.name)
