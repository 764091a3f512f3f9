"""A stage's candidates trained two at a time, on threads of the flow's process or on the worker processes of a
local Dask cluster, score as they do one at a time in the quick pipeline, to the last digit (same data, config
and seed: every layer's initial weights come from that seed, not from whatever a worker's threads drew).

The schedule stage, run alone: it trains its base, then its variants in one batch (adaptive, on threads), or
all three at once (the grid strategy, on Dask): both strategies go through the same stage loop."""

import os

import pytest
from mlflow import MlflowClient

from training.config import PipelineConfig

pytestmark = pytest.mark.e2e

RUNNERS = {"threads": {"max_parallel": 2}, "dask": {"task_runner": "dask", "dask_workers": 2, "strategy": "grid"}}


@pytest.mark.parametrize("runner", RUNNERS)
def test_schedule_candidates_two_at_a_time_score_as_one_at_a_time(quick_pipeline, tracking_uri, tmp_path, runner):
    from flows.executors import candidate_cluster
    from flows.stages import schedule_stage

    one_at_a_time = quick_pipeline.result.stages[3]
    assert one_at_a_time.stage == "schedule"
    base = quick_pipeline.result.stages[2].winner.spec  # what the quick pipeline's schedule stage started from
    config = PipelineConfig(profile="quick", tracking_uri=tracking_uri, experiment="runner-test",
                            work_dir=str(tmp_path / "work"), **RUNNERS[runner])
    # As the pipeline does it: one local cluster for the run, its address handed to each stage.
    with candidate_cluster(config) as on_cluster:
        assert (on_cluster.dask_address or "").startswith("tcp://127.0.0.1:") == (runner == "dask")
        result = schedule_stage(on_cluster, base)

    # The pipeline's base was its incoming winner, trained in an earlier stage on the same spec and seed.
    assert [(c.name, c.score) for c in result.candidates] == [(c.name, c.score) for c in one_at_a_time.candidates]
    if runner == "dask":  # the grid: the best score wins
        assert result.winner.score == max(c.score for c in result.candidates) and not result.story
    else:
        assert result.winner.name == one_at_a_time.winner.name and result.story
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
