"""A stage's candidates trained two at a time, on threads of the flow's process or on the worker processes of a
local Dask cluster, score as they do one at a time in the quick pipeline, to the last digit (same data, config
and seed: every layer's initial weights come from that seed, not from whatever a worker's threads drew)."""

import os

import pytest
from mlflow import MlflowClient

from training.config import PipelineConfig

pytestmark = pytest.mark.e2e

RUNNERS = {"threads": {"max_parallel": 2}, "dask": {"task_runner": "dask", "dask_workers": 2}}


@pytest.mark.parametrize("runner", RUNNERS)
def test_capacity_candidates_two_at_a_time_score_as_one_at_a_time(quick_pipeline, tracking_uri, tmp_path, runner):
    from flows.executors import candidate_cluster
    from flows.stages import capacity_stage

    one_at_a_time = quick_pipeline.result.stages[1]
    assert one_at_a_time.stage == "capacity"
    base = quick_pipeline.result.stages[0].winner.spec  # what the quick pipeline's capacity stage started from
    config = PipelineConfig(profile="quick", tracking_uri=tracking_uri, experiment="runner-test",
                            work_dir=str(tmp_path / "work"), **RUNNERS[runner])
    # As the pipeline does it: one local cluster for the run, its address handed to each stage.
    with candidate_cluster(config) as on_cluster:
        assert (on_cluster.dask_address or "").startswith("tcp://127.0.0.1:") == (runner == "dask")
        result = capacity_stage(on_cluster, base)

    assert [(c.name, c.score) for c in result.candidates] == [(c.name, c.score) for c in one_at_a_time.candidates]
    assert result.winner.name == one_at_a_time.winner.name
    client = MlflowClient(tracking_uri)
    runs = [client.get_run(c.run_id) for c in result.candidates]
    assert all(r.info.status == "FINISHED" and r.data.tags["mlflow.parentRunId"] == result.run_id for r in runs)
    # Two at a time, really: some candidates trained during the same seconds.
    spans = sorted((r.info.start_time, r.info.end_time) for r in runs)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans
    owners = {r.data.tags["owner.process"].rsplit("/", 2)[1] for r in runs}
    if runner == "dask":
        assert str(os.getpid()) not in owners  # trained in the cluster's worker processes
    else:
        assert owners == {str(os.getpid())}
