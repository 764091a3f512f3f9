"""`make ui` serves the MLflow UI of a store on 127.0.0.1 (a real server, stopped after)."""

import json
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.support import free_port, wait_for_http

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def test_make_ui_serves_the_store(tracking_uri, processes):
    store = tracking_uri.removeprefix("sqlite:///")
    MlflowClient(tracking_uri).create_experiment("ui-test")
    port = free_port()
    server = processes.start(["make", "-s", "ui", f"PORT={port}", f"STORE={store}"], cwd=ROOT)
    assert wait_for_http(f"http://127.0.0.1:{port}/health", server).strip() == b"OK"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search", data=b'{"max_results": 10}',
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        names = {e["name"] for e in json.load(response)["experiments"]}
    assert "ui-test" in names
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert b"<html" in response.read().lower()
