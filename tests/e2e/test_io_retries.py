"""A tracking server that is gone for a moment: logging waits and retries with backoff (MLflow's HTTP client:
7 retries, exponential backoff, about 4 minutes in all) instead of failing the run; training never retries."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

MLFLOW = str(Path(sys.executable).parent / "mlflow")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [MLFLOW, "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination",
         str(folder / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return process
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "MLflow server did not start"
            time.sleep(0.5)


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


def test_logging_survives_a_tracking_server_restart(tmp_path):
    from training.tracking import Tracker

    port = free_port()
    servers = [start_server(port, tmp_path)]
    try:
        tracker = Tracker(f"http://127.0.0.1:{port}", "io-retries")
        with tracker.run("through an outage") as run_id:
            stop_server(servers[0])
            down_for = 3.0
            restart = threading.Timer(down_for, lambda: servers.append(start_server(port, tmp_path)))
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
    finally:
        for server in servers:
            stop_server(server)


def test_training_is_never_retried_silently():
    from flows.pipeline import training_pipeline
    from flows.stages import baseline_stage, capacity_stage, regularization_stage, schedule_stage, tuning_stage
    from flows.tasks import search_hyperparameters, train_candidate

    for task in (train_candidate, search_hyperparameters):
        assert not task.retries, task.name
    for flow in (training_pipeline, baseline_stage, capacity_stage, regularization_stage, schedule_stage,
                 tuning_stage):
        assert not flow.retries, flow.name
