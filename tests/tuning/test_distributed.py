"""Keras Tuner's distributed mode for real: a chief and two worker processes on loopback, every trial once,
each an MLflow child run of the tuning stage."""

import os

import pytest

from tests.tuning.test_tuner import ACC, BASE, split, trial_runs  # noqa: F401  (split is a fixture)
from training.tracking import Tracker
from tuning.distributed import SearchJob, run_distributed_search, worker_environment
from tuning.tuner import Budget


def test_workers_get_one_gpu_each_or_share_the_cores():
    assert worker_environment(0, 2, ["2", "3"])["CUDA_VISIBLE_DEVICES"] == "2"
    assert worker_environment(1, 2, ["2", "3"])["CUDA_VISIBLE_DEVICES"] == "3"
    assert worker_environment(2, 3, ["5"])["CUDA_VISIBLE_DEVICES"] == "5"  # fewer GPUs than workers: shared
    cpu = worker_environment(1, 2, [], cores=8)
    assert cpu == {"KERASTUNER_TUNER_ID": "tuner1", "TF_NUM_INTRAOP_THREADS": "4", "TF_NUM_INTEROP_THREADS": "1"}
    assert worker_environment(0, 4, [], cores=2)["TF_NUM_INTRAOP_THREADS"] == "1"


@pytest.mark.e2e
def test_a_chief_and_two_workers_run_each_trial_once_and_log_it(tracking_uri, tmp_path, split):  # noqa: F811
    tracker = Tracker(tracking_uri, "distributed-tuning")
    with tracker.run("tuning", tags={"stage": "tuning"}) as stage_run_id:
        job = SearchJob("random", BASE, split, ACC, Budget(max_epochs=3, max_trials=4), tmp_path / "search",
                        tracker, stage_run_id, seed=1)
        summary = run_distributed_search(job, workers=2)
    runs = trial_runs(tracker, stage_run_id)
    assert summary.trials == 4
    assert sorted(r.data.tags["tuning.trial_id"] for r in runs) == ["0", "1", "2", "3"]  # each once, none twice
    assert all(r.info.status == "FINISHED" for r in runs)
    owners = {r.data.tags["owner.process"].rsplit("/", 2)[1] for r in runs}
    assert str(os.getpid()) not in owners and 1 <= len(owners) <= 2  # trained by the worker processes
    logs = sorted(p.name for p in (tmp_path / "search" / "distributed").glob("*.log"))
    assert logs == ["chief.log", "worker-0.log", "worker-1.log"]

    # The oracle in the chief put the incoming winner first, and what it recorded is what the workers logged.
    first = next(r for r in runs if r.data.tags["tuning.trial_id"] == "0")
    assert (first.data.params["units"], first.data.params["learning_rate"]) == ("16", "0.001")
    scores = dict(summary.scores)
    assert {r.data.tags["tuning.trial_id"]: r.data.metrics["model_val_accuracy"] for r in runs} == pytest.approx(scores)
    assert summary.best_score == max(scores.values())
