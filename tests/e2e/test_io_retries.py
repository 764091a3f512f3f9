"""A tracking server that is gone for a moment: logging waits and retries with backoff (MLflow's HTTP client:
7 retries, exponential backoff, about 4 minutes in all) instead of failing the run; training never retries."""

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import Processes, free_port, stop_group, wait_for_http

pytestmark = pytest.mark.e2e

MLFLOW = str(Path(sys.executable).parent / "mlflow")


def start_server(servers: Processes, port: int, folder: Path) -> None:
    process = servers.start(
        [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination",
         str(folder / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        # As `make server` starts it: no job-execution workers (3 processes instead of 16, half the start time).
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"})
    wait_for_http(f"http://127.0.0.1:{port}/health", process)


def test_logging_survives_a_tracking_server_restart(tmp_path, processes):
    from training.tracking.runs import Tracker

    port = free_port()
    start_server(processes, port, tmp_path)
    tracker = Tracker(f"http://127.0.0.1:{port}", "io-retries")
    with tracker.run("through an outage") as run_id:
        stop_group(processes.started[0].pid, leader=processes.started[0])
        down_for = 3.0
        restart = threading.Timer(down_for, lambda: start_server(processes, port, tmp_path))
        restart.start()
        started = time.monotonic()
        tracker.log_metrics(run_id, {"val_accuracy": 0.5})  # the server is down now
        tracker.log_text(run_id, "uploaded after the outage", "notes/after.txt")  # artifact upload
        waited = time.monotonic() - started
        restart.join()
    assert waited >= down_for
    run = tracker.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["val_accuracy"] == 0.5
    assert tracker.client.list_artifacts(run_id, "notes")[0].path == "notes/after.txt"


def test_training_is_never_retried_silently():
    from flows.pipeline import training_pipeline
    from flows.stages import baseline_stage, capacity_stage, regularization_stage, schedule_stage, tuning_stage
    from flows.tasks import search_hyperparameters, train_candidate

    for task in (train_candidate, search_hyperparameters):
        assert not task.retries, task.name
    for flow in (training_pipeline, baseline_stage, capacity_stage, regularization_stage, schedule_stage,
                 tuning_stage):
        assert not flow.retries, flow.name
