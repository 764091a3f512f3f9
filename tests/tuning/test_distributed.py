"""Keras Tuner's distributed mode for real: the tuning stage starts a chief and two worker processes on
loopback; every trial runs once, each an MLflow child run of the tuning stage logged by a worker."""

import os

import pytest

from tests.tuning.test_tuner import trial_runs
from training.tracking.runs import Tracker
from tuning.distributed import worker_environment


def test_workers_get_one_gpu_each_or_share_the_cores():
    assert worker_environment(0, 2, ["2", "3"])["CUDA_VISIBLE_DEVICES"] == "2"
    assert worker_environment(1, 2, ["2", "3"])["CUDA_VISIBLE_DEVICES"] == "3"
    assert worker_environment(2, 3, ["5"])["CUDA_VISIBLE_DEVICES"] == "5"  # fewer GPUs than workers: shared
    cpu = worker_environment(1, 2, [], cores=8)
    assert cpu == {"KERASTUNER_TUNER_ID": "tuner1", "TF_NUM_INTRAOP_THREADS": "4", "TF_NUM_INTEROP_THREADS": "1"}
    assert worker_environment(0, 4, [], cores=2)["TF_NUM_INTRAOP_THREADS"] == "1"


@pytest.mark.e2e
def test_the_tuning_stage_runs_each_trial_once_on_a_chief_and_two_workers(quick_pipeline, tracking_uri, tmp_path):
    from flows.stages import tuning_stage
    from training.config import PipelineConfig

    # The quick pipeline's own tuning stage searched in its process, from the same incoming winner.
    alone = next(s for s in quick_pipeline.result.stages if s.stage == "tuning")
    alone_trials = trial_runs(Tracker(quick_pipeline.uri, "pipeline-test"), alone.run_id)
    config = PipelineConfig(profile="quick", tracking_uri=tracking_uri, experiment="distributed-stage",
                            work_dir=str(tmp_path / "work"), tuner_workers=2)
    base = next(c for c in alone.candidates if c.name == "base").spec
    # The same share of the profile's budget as the pipeline gave its search (what its earlier stages gained).
    scale = float(Tracker(quick_pipeline.uri, "pipeline-test").get_run(alone.run_id).data.params["search_scale"])
    result = tuning_stage(config, base, search_scale=scale)

    tracker = Tracker(tracking_uri, "distributed-stage")
    runs = trial_runs(tracker, result.run_id)
    ids = [r.data.tags["tuning.trial_id"] for r in runs]
    # Hyperband's brackets (quick: max_epochs 3, factor 3) hold as many trials as in one process; each ran once.
    assert len(ids) == len(set(ids)) == len(alone_trials) > 1
    assert tracker.get_run(result.run_id).data.metrics["trials"] == len(ids)
    assert all(r.info.status == "FINISHED" and "tuner/bracket" in r.data.params for r in runs)
    owners = {r.data.tags["owner.process"].rsplit("/", 2)[1] for r in runs}
    assert str(os.getpid()) not in owners and 1 <= len(owners) <= 2  # trained by the worker processes
    # The oracle in the chief put the incoming winner first.
    first = min(runs, key=lambda r: int(r.data.tags["tuning.trial_id"]))
    assert {k: first.data.params[k] for k in ("units", "learning_rate", "dropout")} == {
        k: str(v) for k, v in base.params().items() if k in ("units", "learning_rate", "dropout")}
    assert [c.name for c in result.candidates][0] == "base"
    assert list((tmp_path / "work").iterdir()) == []  # the project folder, the processes' logs included, is gone
