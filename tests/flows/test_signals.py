"""A pipeline stopped by SIGTERM (as a worker cancelling a flow run does) leaves no run alive and no model."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_mid_training_ends_every_run_killed_or_failed_and_registers_nothing(tracking_uri, tmp_path):
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows", "run", "--profile", "quick", "--tracking-uri", tracking_uri,
             "--experiment", "signal-test", "--model-name", "signal-test", "--force"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")},
            start_new_session=True)
    deadline = time.monotonic() + 240
    while "capacity/units-32 started" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)  # the flow process alone, as a worker cancelling it does
    try:
        assert process.wait(timeout=120) == 128 + signal.SIGTERM
        # Nothing of the group is left: the temporary Prefect API server the CLI started was stopped with it.
        deadline = time.monotonic() + 20
        while group_alive(process.pid):
            assert time.monotonic() < deadline, "a process the CLI started outlived it"
            time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("signal-test").experiment_id])
    statuses = {r.info.run_name: r.info.status for r in runs}
    assert "RUNNING" not in statuses.values(), statuses
    pipeline = next(r for r in runs if r.data.tags.get("stage") == "pipeline")
    assert pipeline.info.status == "KILLED"
    assert statuses["capacity"] == "KILLED"
    assert client.search_registered_models("name = 'signal-test'") == []  # nothing registered, no alias moved
