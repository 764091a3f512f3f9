"""The team setup for real, on loopback: a PostgreSQL server, `make server DB_URL=postgresql://...`, `make deploy`,
`make worker`, `prefect deployment run`, the MLflow UI in headless Chromium, `make stop`. Everything started here
is stopped here."""

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.postgres import postgres_server
from tests.support import Processes, command_lines, free_port, port_answers, run_side_by_side

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def assert_no_password(postgres, texts: list[str]) -> None:
    """The database password is in none of these texts (a failure never prints the text: it holds it)."""
    leaks = [index for index, text in enumerate(texts) if postgres.password in text]
    assert not leaks, f"the database password appears in {len(leaks)} of {len(texts)} outputs or command lines"


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

    workers = Processes()
    try:  # from the first server on, whatever fails: the servers and the worker are stopped below
        started = make("server", timeout=300)
        assert started.returncode == 0, started.stdout + started.stderr
        # The database password is in no output, state file or command line that other users can read.
        state = json.loads((tmp / "run" / "servers.json").read_text())
        lines = command_lines()
        assert any(f"--port {mlflow_port}" in line and "mlflow" in line for line in lines)
        assert "postgresql://mlflow:***@" in started.stdout
        assert_no_password(postgres, [started.stdout, started.stderr, json.dumps(state), *lines])
        deployed = make("deploy", timeout=300)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        # Two flow runs at once: the bad-input runs below spend their time importing, not training.
        # A worker needs no database URL: none on its command line either.
        workers.start(["make", "-s", "worker", "POOL=cpu", "RUNS=2",
                       *[setting for setting in settings if not setting.startswith("DB_URL=")]],
                      log=tmp / "worker.log", cwd=ROOT, env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"})
        api = {**env, "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api"}
        yield {"tmp": tmp, "api_env": api, "mlflow": f"http://127.0.0.1:{mlflow_port}",
               "worker_log": tmp / "worker.log", "make": make}
    finally:
        workers.stop_all()  # make exits first; the prefect worker in its group must be gone too
        stopped = make("stop", timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        for port in (prefect_port, mlflow_port):
            assert not port_answers(port), f"port {port} still answers after make stop"


@contextlib.contextmanager
def prefect_client(team):
    """A client of the team's Prefect server, in this process."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: team["api_env"]["PREFECT_API_URL"]}), \
            get_client(sync_client=True) as client:
        yield client


# The manual deployment as a user starts it, on a small grid through its parameters (the whole quick grid runs
# in-process in tests/flows/test_pipeline.py; candidates on Dask, with the pipeline's one cluster for all its
# stages, in tests/flows/test_task_runners.py).
MANUAL_RUN = ["profile=quick", "data=iris", "capacity_units=[[8]]", "dropout_rates=[0.2]",
              'schedule_variants=["early-stopping"]', "tuner=random", "max_trials=1"]


@pytest.fixture(scope="module")
def manual_run(team):
    """`prefect deployment run training-pipeline/manual --watch`, once for the module; the finished run."""
    command = [str(BIN / "prefect"), "deployment", "run", "training-pipeline/manual", "--watch",
               "--watch-interval", "1", "--watch-timeout", "900"]
    for param in MANUAL_RUN:
        command += ["--param", param]
    done = subprocess.run(command, env=team["api_env"], capture_output=True, text=True, timeout=1000)
    log = team["worker_log"].read_text(errors="replace")[-4000:]
    assert done.returncode == 0 and "Completed" in done.stdout, done.stdout[-3000:] + log
    return done


def test_no_process_of_the_team_shows_the_database_password(team, postgres, manual_run):
    # After a whole run: servers, worker and the flow run's process have all been up.
    assert_no_password(postgres, [*command_lines(), team["worker_log"].read_text(errors="replace")])


def test_a_deployment_run_completes_and_logs_to_the_tracking_server(team, postgres, manual_run):
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
    assert (runs[0].data.params["data"], runs[0].data.params["capacity_units"]) == ("iris", "[(8,)]")
    # Trained by the worker's flow run process, not by anything of this test.
    flow_process = runs[0].data.tags["owner.process"]
    assert flow_process.rsplit("/", 2)[1] != str(os.getpid())
    candidates = client.search_runs([experiment.experiment_id], "tags.kind = 'candidate'")
    assert candidates and all(r.data.tags["owner.process"] == flow_process for r in candidates)
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


def chromium_flags(team, profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={team['tmp'] / profile}", "--window-size=1600,1000", "--virtual-time-budget=20000"]


def chromium() -> str:
    browser = shutil.which("chromium")
    if not browser:
        pytest.skip("Chromium is not installed: `make test-system` installs it (Debian's package, as root)")
    return browser


def test_the_mlflow_ui_lists_the_pipeline_runs_in_a_real_browser(team, manual_run):
    browser = chromium()
    client = MlflowClient(team["mlflow"])
    experiment = client.get_experiment_by_name("keras-mlops")
    url = f"{team['mlflow']}/#/experiments/{experiment.experiment_id}/runs"
    flags = chromium_flags(team, "chromium")
    # Chromium's helper processes are stopped with it, whatever happens (its own group).
    ((_, dom),) = run_side_by_side([[browser, *flags, "--dump-dom", url]], timeout=180)
    names = [r.info.run_name for r in client.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")]
    assert names and all(name in dom for name in names), dom[-2000:]
    screenshot = team["tmp"] / "mlflow-ui.png"
    run_side_by_side([[browser, *flags, f"--screenshot={screenshot}", url]], timeout=180)
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


def test_the_prefect_ui_on_another_port_lists_the_deployments_flow_runs_in_a_real_browser(team, manual_run):
    """The team's Prefect server is not on 4200 (a free port): its UI must call the API where it is served."""
    browser = chromium()
    name = re.search(r"Created flow run '([\w-]+)'", manual_run.stdout).group(1)
    flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", manual_run.stdout).group(1)
    ui = team["api_env"]["PREFECT_API_URL"].removesuffix("/api")
    # The runs page: its filters and counts come from the API (its rows render only when scrolled into view,
    # which a headless dump does not always do: the CI's did not); the flow run's own page: its name, from the API.
    (_, runs), (_, run) = run_side_by_side(
        [[browser, *chromium_flags(team, "chromium-runs"), "--dump-dom", f"{ui}/runs"],
         [browser, *chromium_flags(team, "chromium-run"), "--dump-dom", f"{ui}/flow-runs/flow-run/{flow_run_id}"]],
        timeout=180)
    assert "Can't connect to Server API" not in runs + run, (runs + run)[-2000:]
    assert "training-pipeline" in runs, runs[-2000:]
    assert name in run, run[-2000:]


# Bad input through a deployment: values the flow's parameter schema forbids are refused by the Prefect API
# when the run is requested (no flow run exists); the rest fail the flow run with the named error.
REFUSED_PARAMETERS = {"epochs=0": "epochs", "epochs=-3": "epochs", "batch_size=0": "batch_size",
                      "train_fraction=-0.5": "train_fraction", "val_fraction=0": "val_fraction",
                      "profile=huge": "huge", "task=clustering": "clustering", "tuner=grid": "grid",
                      "metric=accuracy": "accuracy", "task_runner=spark": "spark",
                      "dask_address=localhost": "dask_address", "tuner_workers=-1": "tuner_workers"}


def test_bad_parameters_are_refused_when_the_run_is_requested(team):
    # As a user types it, once; then every case through the same API call (the CLI costs ~2 s per start).
    done = subprocess.run([str(BIN / "prefect"), "deployment", "run", "training-pipeline/manual", "--param",
                           "epochs=0"], env=team["api_env"], capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "epochs" in output and "Created flow run" not in output, output[-2000:]
    with prefect_client(team) as prefect:
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

        deployment = prefect.read_deployment_by_name("training-pipeline/manual")
        # The manual deployment's runs only: the scheduler adds nightly runs at any moment.
        manual = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        runs_before = len(prefect.read_flow_runs(deployment_filter=manual))
        for param, named in REFUSED_PARAMETERS.items():
            key, value = param.split("=", 1)
            with pytest.raises(Exception) as refused:
                prefect.create_flow_run_from_deployment(deployment.id, parameters={key: json_or_text(value)})
            assert named in str(refused.value), (param, str(refused.value)[-1000:])
        assert len(prefect.read_flow_runs(deployment_filter=manual)) == runs_before  # none created


def json_or_text(value: str):
    """A --param value as the Prefect CLI reads it: JSON when it parses, else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def test_bad_data_fails_the_deployment_run_and_writes_nothing(team, manual_run):
    import re

    from tests.flows.test_bad_input import DATA_CASES

    folder = team["tmp"] / "bad-data"
    folder.mkdir()
    # One case the data layer refuses and one config check the schema cannot express. Every data case runs
    # through the same flow, in-process, in tests/flows/test_bad_input.py; a worker's flow run costs ~10 s of
    # imports each on 2 cores.
    cases = {"target column missing": DATA_CASES["target column missing"],
             "fractions not summing to 1": (lambda d: "digits", ["--train-fraction", "0.5"], ["must sum to 1"])}
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
    with prefect_client(team) as prefect:
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
