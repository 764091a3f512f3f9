"""`make ui` serves the MLflow UI of a store on 127.0.0.1 (a real server, stopped after)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_ui_serves_the_store(tmp_path):
    store = tmp_path / "mlruns" / "mlflow.db"
    store.parent.mkdir()
    MlflowClient(f"sqlite:///{store}").create_experiment("ui-test")
    port = free_port()
    server = subprocess.Popen(["make", "-s", "ui", f"PORT={port}", f"STORE={store}"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.read().strip() == b"OK"
                break
            except OSError:
                assert server.poll() is None, "make ui exited"
                assert time.monotonic() < deadline, "the UI did not answer within 90 s"
                time.sleep(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search", data=b'{"max_results": 10}',
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            names = {e["name"] for e in json.load(response)["experiments"]}
        assert "ui-test" in names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"<html" in response.read().lower()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
