"""Pipelines stopped from outside, as `python -m flows run` processes: SIGKILL leaves runs RUNNING until the
next pipeline closes them; SIGTERM (a worker cancelling a flow run) ends every run KILLED at once. Neither
registers a model."""

import os
import re
import signal
import sys
import time

import pytest
from mlflow import MlflowClient

from tests.support import group_alive
from training.runtime.ownership import OWNER_FLOW_RUN, OWNER_PROCESS

pytestmark = pytest.mark.e2e


def start_pipeline_until_training(processes, tracking_uri, tmp_path, log_name: str, prefect_api: str | None,
                                  earlier: frozenset = frozenset()):
    """`python -m flows run` in its own process group, returned once its capacity stage trains. Without a
    `prefect_api` it starts its own temporary Prefect API server, as `make run` does. Runs in `earlier` are an
    earlier pipeline's."""
    log = tmp_path / log_name
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / log_name.replace(".log", "-prefect"))}
    env.pop("PREFECT_API_URL", None)
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    process = processes.start(
        [sys.executable, "-m", "flows", "run", "--profile", "quick", "--tracking-uri", tracking_uri,
         "--experiment", "signal-test", "--model-name", "signal-test"], log=log, env=env)
    client, deadline = MlflowClient(tracking_uri), time.monotonic() + 240
    # Into the capacity stage: SIGTERM while the process's first network is still being built can be turned by
    # TensorFlow's C++ layer into a RuntimeError (exit 1, runs FAILED); seen once, not fixed yet.
    while not (started := re.search(r"capacity/(\S+) started", log.read_text(errors="replace"))) or not training(
            client, earlier):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.5)
    return process, started.group(1)


def training(client: MlflowClient, earlier: frozenset) -> bool:
    """Whether a candidate run of the experiment (not one of `earlier`) is RUNNING."""
    experiment = client.get_experiment_by_name("signal-test")
    return experiment is not None and any(r.info.run_id not in earlier for r in client.search_runs(
        [experiment.experiment_id], "tags.kind = 'candidate' and attributes.status = 'RUNNING'"))


def test_killed_and_terminated_pipelines_leave_no_run_alive_and_register_nothing(prefect_harness, tracking_uri,
                                                                                 tmp_path, processes):
    from prefect.settings import get_current_settings

    client = MlflowClient(tracking_uri)
    # The first one reports to the test's Prefect API (a temporary server of its own would die with it anyway).
    killed, step = start_pipeline_until_training(processes, tracking_uri, tmp_path, "killed.log",
                                                 get_current_settings().api.url)
    os.killpg(killed.pid, signal.SIGKILL)  # no handler runs: nothing can end the runs
    killed.wait(timeout=60)
    experiment = client.get_experiment_by_name("signal-test").experiment_id
    orphans = {r.info.run_id: r.info.run_name for r in client.search_runs([experiment], "attributes.status = "
                                                                           "'RUNNING'")}
    assert {"capacity", step} <= set(orphans.values()), orphans
    # A run owned by another machine's process, of a flow run Prefect does not know: it cannot be judged from
    # here, so it is left alone.
    foreign = client.create_run(experiment, run_name="elsewhere",
                                tags={OWNER_PROCESS: "gpu-node-7/4242/1", OWNER_FLOW_RUN: "unknown"}).info.run_id

    # The next pipeline closes the dead one's runs before it trains.
    terminated, step = start_pipeline_until_training(processes, tracking_uri, tmp_path, "terminated.log", None,
                                                     frozenset(orphans))
    for run_id, name in orphans.items():
        run = client.get_run(run_id)
        assert run.info.status == "KILLED", name
        assert "no longer exists" in run.data.tags["closed.reason"]
    assert client.get_run(foreign).info.status == "RUNNING"
    client.set_terminated(foreign, "KILLED")

    terminated.send_signal(signal.SIGTERM)  # the flow process alone, as a worker cancelling it does
    assert terminated.wait(timeout=120) == 128 + signal.SIGTERM
    # Nothing of its group is left: the temporary Prefect API server the CLI started was stopped with it.
    deadline = time.monotonic() + 20
    while group_alive(terminated.pid):
        assert time.monotonic() < deadline, "a process the CLI started outlived it"
        time.sleep(0.5)
    runs = [r for r in client.search_runs([experiment]) if r.info.run_id not in orphans]
    statuses = {r.info.run_name: r.info.status for r in runs}
    assert "RUNNING" not in statuses.values(), statuses
    assert [r.info.status for r in runs if r.data.tags.get("stage") == "pipeline"] == ["KILLED"]
    assert statuses["capacity"] == statuses[step] == "KILLED"
    assert client.search_registered_models("name = 'signal-test'") == []  # nothing registered, no alias moved
