"""The team setup for real, on loopback: a PostgreSQL server, `make server DB_URL=postgresql://...`, `make deploy`,
`make worker`, `prefect deployment run` (its candidates on a Dask cluster), the MLflow UI in headless Chromium,
`make stop`. Everything started here is stopped here."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.postgres import postgres_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> str:
    """Debian's chromium, installed when missing (the test machine has apt and root)."""
    found = shutil.which("chromium")
    if not found:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=900,
                       stdout=subprocess.DEVNULL)
        found = shutil.which("chromium")
    assert found, "chromium could not be installed"
    return found


def stop_group(pgid: int, grace: float = 30) -> None:
    """Wait for every process of a group to end; SIGKILL what is left after `grace` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def team(tmp_path_factory, postgres):
    tmp = tmp_path_factory.mktemp("team")
    prefect_port, mlflow_port = free_port(), free_port()
    settings = [f"PREFECT_PORT={prefect_port}", f"MLFLOW_PORT={mlflow_port}", f"RUN_DIR={tmp / 'run'}",
                f"DB_URL={postgres.url}", f"ARTIFACTS={tmp / 'artifacts'}",
                "NIGHTLY_TIMEZONE=Europe/Berlin"]
    env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect-home")}
    for key in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        env.pop(key, None)

    def make(*args, **kwargs):
        return subprocess.run(["make", "-s", *args, *settings], cwd=ROOT, env=env, capture_output=True, text=True,
                              **kwargs)

    started = make("server", timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    # The database password is in no output, state file or command line that other users can read.
    state = (tmp / "run" / "servers.json").read_text()
    mlflow_pid = json.loads(state)["mlflow"]["pid"]
    command_lines = subprocess.run(["ps", "-o", "args=", "--sid", str(mlflow_pid)], capture_output=True,
                                   text=True).stdout
    assert "mlflow" in command_lines and "postgresql://mlflow:***@" in started.stdout
    for text in (started.stdout, started.stderr, state, command_lines):
        assert postgres.password not in text
    worker = None
    try:
        deployed = make("deploy", timeout=300)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        # Two flow runs at once: the bad-input runs below spend their time importing, not training.
        worker = subprocess.Popen(["make", "-s", "worker", "POOL=cpu", "RUNS=2", *settings], cwd=ROOT,
                                  env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"}, start_new_session=True,
                                  stdout=open(tmp / "worker.log", "wb"), stderr=subprocess.STDOUT)
        api = {**env, "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api"}
        yield {"tmp": tmp, "api_env": api, "mlflow": f"http://127.0.0.1:{mlflow_port}",
               "worker_log": tmp / "worker.log", "make": make}
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
            stop_group(worker.pid)  # make exits first; the prefect worker in its group must be gone too
        stopped = make("stop", timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        for port in (prefect_port, mlflow_port):
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after make stop"


def test_a_deployment_run_completes_and_logs_to_the_tracking_server(team, postgres):
    # The deployment parameter task_runner=dask sends the candidates to a local Dask cluster of 2 workers.
    done = subprocess.run([str(BIN / "prefect"), "deployment", "run", "training-pipeline/manual", "--param",
                           "profile=quick", "--param", "task_runner=dask", "--param", "dask_workers=2", "--watch",
                           "--watch-timeout", "900"], env=team["api_env"], capture_output=True, text=True,
                          timeout=1000)
    log = team["worker_log"].read_text(errors="replace")[-4000:]
    assert done.returncode == 0 and "Completed" in done.stdout, done.stdout[-3000:] + log
    client = MlflowClient(team["mlflow"])
    experiment = client.get_experiment_by_name("keras-mlops")
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].data.tags["outcome"] == "trained"
    assert runs[0].data.tags["device.kind"] == "cpu"
    champion = client.get_model_version_by_alias("keras-mlops-model", "champion")
    assert champion.tags["pipeline.run_id"] == runs[0].info.run_id
    # artifacts went through the tracking server, not to a local path of the worker
    assert runs[0].info.artifact_uri.startswith("mlflow-artifacts:")
    assert runs[0].data.params["task_runner"] == "dask"
    flow_process = runs[0].data.tags["owner.process"]
    candidates = client.search_runs([experiment.experiment_id], "tags.kind = 'candidate'")
    assert candidates and all(r.data.tags["owner.process"] != flow_process for r in candidates)  # Dask workers
    # ... and all of it is in PostgreSQL: the runs, the registered model, its champion alias.
    in_postgres = postgres.query("select count(*) from runs join experiments using (experiment_id) where "
                                 "experiments.name = 'keras-mlops' and runs.lifecycle_stage = 'active'")[0][0]
    assert in_postgres == len(client.search_runs([experiment.experiment_id]))
    assert postgres.query("select name, alias, version from registered_model_aliases") == [
        ("keras-mlops-model", "champion", int(champion.version))]


def test_nightly_deployment_is_scheduled_at_three(team):
    inspect = subprocess.run([str(BIN / "prefect"), "deployment", "inspect", "training-pipeline/nightly",
                              "--output", "json"], env=team["api_env"], capture_output=True, text=True, timeout=120)
    deployment = json.loads(inspect.stdout)
    schedule = deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 3 * * *", "Europe/Berlin")
    assert deployment["work_pool_name"] == "gpu"
    deadline = time.monotonic() + 60
    while True:
        listed = subprocess.run([str(BIN / "prefect"), "flow-run", "ls", "--flow-name", "training-pipeline",
                                 "--state", "SCHEDULED", "--output", "json"], env=team["api_env"],
                                capture_output=True, text=True, timeout=120)
        scheduled = [r for r in json.loads(listed.stdout or "[]") if r["deployment_id"] == deployment["id"]]
        if scheduled or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert scheduled, "the scheduler created no upcoming nightly runs"
    assert all(run["expected_start_time"][11:13] in {"01", "02"} for run in scheduled)  # 03:00 Berlin in UTC


def test_the_mlflow_ui_lists_the_pipeline_runs_in_a_real_browser(team):
    browser = chromium()
    client = MlflowClient(team["mlflow"])
    experiment = client.get_experiment_by_name("keras-mlops")
    url = f"{team['mlflow']}/#/experiments/{experiment.experiment_id}/runs"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={team['tmp'] / 'chromium'}", "--window-size=1600,1000",
             "--virtual-time-budget=20000"]
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    names = [r.info.run_name for r in client.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")]
    assert names and all(name in dom for name in names), dom[-2000:]
    screenshot = team["tmp"] / "mlflow-ui.png"
    subprocess.run([browser, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=180)
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


# Bad input through a deployment: values the flow's parameter schema forbids are refused by the Prefect API
# when the run is requested (no flow run exists); the rest fail the flow run with the named error.
REFUSED_PARAMETERS = {"epochs=0": "epochs", "epochs=-3": "epochs", "batch_size=0": "batch_size",
                      "train_fraction=-0.5": "train_fraction", "val_fraction=0": "val_fraction",
                      "profile=huge": "huge", "task=clustering": "clustering", "tuner=grid": "grid",
                      "metric=accuracy": "accuracy", "task_runner=spark": "spark",
                      "dask_address=localhost": "dask_address", "tuner_workers=-1": "tuner_workers"}


def test_bad_parameters_are_refused_when_the_run_is_requested(team):
    for param, named in REFUSED_PARAMETERS.items():
        done = subprocess.run([str(BIN / "prefect"), "deployment", "run", "training-pipeline/manual", "--param",
                               param], env=team["api_env"], capture_output=True, text=True, timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode != 0, (param, output[-2000:])
        assert named in output and "Created flow run" not in output, (param, output[-2000:])


def test_bad_data_fails_the_deployment_run_and_writes_nothing(team):
    import re

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.flows.test_bad_input import DATA_CASES

    folder = team["tmp"] / "bad-data"
    folder.mkdir()
    # One case per layer that can refuse data (file, format, columns, split) and one config check the schema
    # cannot express. Every case of the list runs through the same flow, in-process, in
    # tests/flows/test_bad_input.py; a worker's flow run costs ~10 s of imports each on 2 cores.
    cases = {name: DATA_CASES[name] for name in ("path that does not exist", "PNG renamed .csv",
                                                 "target column missing", "class too small for every split")}
    cases["fractions not summing to 1"] = (lambda d: "digits", ["--train-fraction", "0.5"], ["must sum to 1"])
    client = MlflowClient(team["mlflow"])
    champion_before = client.get_model_version_by_alias("keras-mlops-model", "champion").version
    flow_runs = {}
    for index, (name, (build, extra, expected)) in enumerate(cases.items()):
        case_folder = folder / str(index)
        case_folder.mkdir()
        params = {"data": build(case_folder), "experiment": "bad-input", "model_name": "bad-input",
                  "profile": "quick", **dict(zip([a.removeprefix("--").replace("-", "_") for a in extra[::2]],
                                                 extra[1::2], strict=True))}
        command = [str(BIN / "prefect"), "deployment", "run", "training-pipeline/manual"]
        for key, value in params.items():
            command += ["--param", f"{key}={value}"]
        done = subprocess.run(command, env=team["api_env"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        flow_runs[name] = (re.search(r"UUID: ([0-9a-f-]{36})", done.stdout).group(1), expected)

    deadline = time.monotonic() + 900
    with temporary_settings({PREFECT_API_URL: team["api_env"]["PREFECT_API_URL"]}), \
            get_client(sync_client=True) as prefect:
        for name, (flow_run_id, expected) in flow_runs.items():
            while not (state := prefect.read_flow_run(flow_run_id).state).is_final():
                assert time.monotonic() < deadline, f"{name}: flow run still {state.type}"
                time.sleep(2)
            assert state.is_failed(), (name, state)
            for text in expected:
                assert text in state.message, (name, text, state.message)
    assert client.get_experiment_by_name("bad-input") is None  # no run, so none left RUNNING
    assert client.search_registered_models("name = 'bad-input'") == []
    assert client.get_model_version_by_alias("keras-mlops-model", "champion").version == champion_before


def test_make_server_refuses_a_database_it_cannot_reach_and_starts_nothing(tmp_path):
    url = f"postgresql://mlflow:not-this-password@127.0.0.1:{free_port()}/mlflow"  # nothing listens there
    # Without -s: make would echo a recipe that held the URL.
    done = subprocess.run(["make", "server", f"RUN_DIR={tmp_path / 'run'}", f"DB_URL={url}",
                           f"PREFECT_PORT={free_port()}", f"MLFLOW_PORT={free_port()}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "cannot use the database postgresql://mlflow:***@127.0.0.1" in done.stderr
    assert "Connection refused" in done.stderr and "not-this-password" not in done.stdout + done.stderr
    assert not (tmp_path / "run" / "servers.json").exists()
