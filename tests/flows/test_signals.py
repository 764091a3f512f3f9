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


def start_pipeline_until_training(tracking_uri, tmp_path, name: str, *options: str) -> subprocess.Popen:
    """`python -m flows run` in its own process group, returned once the capacity stage trains."""
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows", "run", "--profile", "quick", "--tracking-uri", tracking_uri,
             "--experiment", name, "--model-name", name, *options],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")},
            start_new_session=True)
    deadline = time.monotonic() + 240
    while "capacity/units-32 started" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.5)
    return process


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_mid_training_ends_every_run_killed_or_failed_and_registers_nothing(tracking_uri, tmp_path):
    process = start_pipeline_until_training(tracking_uri, tmp_path, "signal-test", "--force")
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


def test_sigkill_leaves_runs_running_until_the_next_pipeline_closes_them(tracking_uri, tmp_path, prefect_harness):
    from flows.pipeline import training_pipeline
    from training.ownership import OWNER_FLOW_RUN, OWNER_PROCESS

    process = start_pipeline_until_training(tracking_uri, tmp_path, "sigkill-test")
    os.killpg(process.pid, signal.SIGKILL)  # no handler runs: nothing can end the runs
    process.wait(timeout=60)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("sigkill-test").experiment_id
    running = client.search_runs([experiment], "attributes.status = 'RUNNING'")
    orphans = {r.info.run_id: r.info.run_name for r in running}
    assert {"capacity", "units-32"} <= set(orphans.values()), orphans
    # A run owned by another machine's process, of a flow run Prefect does not know: it cannot be judged from
    # here, so it is left alone.
    foreign = client.create_run(experiment, run_name="elsewhere",
                                tags={OWNER_PROCESS: "gpu-node-7/4242/1", OWNER_FLOW_RUN: "unknown"}).info.run_id

    result = training_pipeline(profile="quick", tracking_uri=tracking_uri, experiment="sigkill-test",
                               model_name="sigkill-test", capacity_units=[[16]], dropout_rates=[0.5],
                               schedule_variants=["early-stopping"], tuner="random", max_trials=1,
                               work_dir=str(tmp_path / "work"))
    for run_id, name in orphans.items():
        run = client.get_run(run_id)
        assert run.info.status == "KILLED", name
        assert "no longer exists" in run.data.tags["closed.reason"]
    assert client.get_run(foreign).info.status == "RUNNING"
    client.set_terminated(foreign, "KILLED")
    # The killed run registered nothing; the next run's model is the first version and the champion.
    assert result.promotion.version == "1"
    assert str(client.get_model_version_by_alias("sigkill-test", "champion").version) == "1"
