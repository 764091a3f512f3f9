"""The team setup for real, on loopback, as docs/team.md's "Run it as a team" sets it up: a PostgreSQL server,
`make server DB_URL=postgresql://...` with credentials (MLflow's basic-auth, Prefect's auth string), `make user`,
`make deploy` with failure notices to a webhook (an HTTP receiver here), plain `prefect deploy` over it, a cpu and
a gpu `make worker` that hold the pipeline user's credentials, `prefect deployment run`, both UIs in headless
Chromium, `make stop`. Every request goes to 127.0.0.1; everything started here is stopped here."""

import base64
import contextlib
import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.e2e.browser import Browser, basic_auth
from tests.e2e.postgres import postgres_bin, postgres_server
from tests.e2e.receiver import receiving
from tests.e2e.s3 import s3_server
from tests.support import Processes, command_lines, free_port, port_answers

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# What a user's shell may hold that this module sets itself, per process.
CREDENTIALS = ("MLFLOW_AUTH_ADMIN_PASSWORD", "PREFECT_API_AUTH_STRING", "MLFLOW_TRACKING_USERNAME",
               "MLFLOW_TRACKING_PASSWORD", "PREFECT_API_URL", "MLFLOW_TRACKING_URI", "NOTIFY_WEBHOOK_URL")


def assert_no_password(postgres, texts: list[str]) -> None:
    """The database password is in none of these texts (a failure never prints the text: it holds it)."""
    leaks = [index for index, text in enumerate(texts) if postgres.password in text]
    assert not leaks, f"the database password appears in {len(leaks)} of {len(texts)} outputs or command lines"


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def iris():
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame


@pytest.fixture(scope="module")
def team_data(postgres, tmp_path_factory):
    """Where the team keeps its data: a table `events` in a database `nightly` of the team's PostgreSQL, and
    Parquet parts on an S3-compatible server (moto's, its authentication on). (url of the table, the store.)"""
    import sqlalchemy

    subprocess.run([str(postgres_bin() / "createdb"), "-h", postgres.host, "-p", str(postgres.port), "-U",
                    postgres.user, "nightly"], check=True, capture_output=True, timeout=60,
                   env={**os.environ, "PGPASSWORD": postgres.password})
    engine = sqlalchemy.create_engine(postgres.url.rsplit("/", 1)[0] + "/nightly")
    iris().to_sql("events", engine, index=False)
    engine.dispose()
    with s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as s3:
        for day, rows in (("2026-12-01", iris().iloc[::2]), ("2026-12-02", iris().iloc[1::2])):
            s3.put("nightly", f"events/date={day}/part-0.parquet", rows.to_parquet())
        yield f"postgresql://{postgres.user}@{postgres.host}:{postgres.port}/nightly", s3


@pytest.fixture(scope="module")
def receiver():
    with receiving() as server:
        yield server


@pytest.fixture(scope="module")
def team(tmp_path_factory, postgres, receiver, team_data):
    tmp = tmp_path_factory.mktemp("team")
    prefect_port, mlflow_port = free_port(), free_port()
    secret = {"admin": "admin-" + secrets.token_hex(8), "prefect": "team:" + secrets.token_hex(8),
              "pipeline": "pipeline-" + secrets.token_hex(8), "reader": "reader-" + secrets.token_hex(8)}
    # NIGHTLY_DEADLINE_HOURS: 14.4 s, which the small nightly run below outlasts.
    settings = [f"PREFECT_PORT={prefect_port}", f"MLFLOW_PORT={mlflow_port}", f"RUN_DIR={tmp / 'run'}",
                f"DB_URL={postgres.url}", f"AUTH_DB_URL=sqlite:///{tmp / 'auth.db'}", f"ARTIFACTS={tmp / 'artifacts'}",
                "NIGHTLY_TIMEZONE=Europe/Berlin", "NIGHTLY_DEADLINE_HOURS=0.004"]
    bare = {key: value for key, value in os.environ.items() if key not in CREDENTIALS}
    bare["PREFECT_HOME"] = str(tmp / "prefect-home")
    # Everyone who talks to Prefect holds the team's auth string; the admin is MLflow's admin.
    prefect_user = {**bare, "PREFECT_API_AUTH_STRING": secret["prefect"]}
    admin = {**prefect_user, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": secret["admin"]}
    # The workers also hold the data's credentials, in their environment only: the database's password and the
    # object store's keys.
    table_url, s3 = team_data
    pipeline_user = {**prefect_user, "MLFLOW_TRACKING_USERNAME": "pipeline",
                     "MLFLOW_TRACKING_PASSWORD": secret["pipeline"], "PREFECT_WORKER_QUERY_SECONDS": "2",
                     "KERAS_MLOPS_DATA_PASSWORD": postgres.password, **s3.env}
    # The nightly deployment trains the team's table, as `make deploy NIGHTLY_DATA=...` and the README say.
    nightly = {"NIGHTLY_DATA": table_url, "NIGHTLY_TABLE": "events", "NIGHTLY_TARGET": "target"}

    def make(*args, env, **kwargs):
        return subprocess.run(["make", "-s", *args, *settings], cwd=ROOT, env=env, capture_output=True, text=True,
                              **kwargs)

    workers = Processes()
    # This process reads MLflow as the read-only user; a test that needs more says so (monkeypatch).
    saved = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ.update({"MLFLOW_TRACKING_USERNAME": "reader", "MLFLOW_TRACKING_PASSWORD": secret["reader"]})
    try:  # from the first server on, whatever fails: the servers and the workers are stopped below
        started = make("server", env={**prefect_user, "MLFLOW_AUTH_ADMIN_PASSWORD": secret["admin"]}, timeout=300)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "MLflow basic-auth" in started.stdout and "Prefect API auth string" in started.stdout
        # The database password is in no output, state file or command line that other users can read.
        state = json.loads((tmp / "run" / "servers.json").read_text())
        lines = command_lines()
        assert any(f"--port {mlflow_port}" in line and "mlflow" in line for line in lines)
        assert "postgresql://mlflow:***@" in started.stdout
        assert_no_password(postgres, [started.stdout, started.stderr, json.dumps(state), *lines])
        for name, permission in (("pipeline", "EDIT"), ("reader", "READ")):
            added = make("user", f"NAME={name}", f"PERMISSION={permission}",
                         env={**admin, "MLFLOW_NEW_USER_PASSWORD": secret[name]}, timeout=300)
            assert added.returncode == 0 and f"created user {name}" in added.stdout, added.stdout + added.stderr
        deployed = make("deploy", env={**admin, **nightly,
                                       "NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_port}/"},
                        timeout=300)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        assert "failure notices for training-pipeline/nightly" in deployed.stdout
        api = {**prefect_user, "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api"}
        # Then plain `prefect deploy`, as Prefect users deploy, over what make deploy made: no KERAS_MLOPS_DIR,
        # the tracking URL exported as make server printed it. Every flow run below runs a deployment made so.
        plain = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=ROOT, timeout=300,
                               env={**plain_deploy_env(api), "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{mlflow_port}",
                                    "NIGHTLY_TIMEZONE": "Europe/Berlin", **nightly}, capture_output=True, text=True)
        assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-3000:]
        # The workers' identity in MLflow is the pipeline user, from their environment only. The cpu worker takes
        # two flow runs at once: the bad-input runs spend their time importing, not training. A worker needs no
        # database URL: none on its command line either.
        no_db = [setting for setting in settings if not setting.startswith("DB_URL=")]
        for pool, runs in (("cpu", 2), ("gpu", 1)):
            workers.start(["make", "-s", "worker", f"POOL={pool}", f"RUNS={runs}", *no_db],
                          log=tmp / f"worker-{pool}.log", cwd=ROOT, env=pipeline_user)
        yield {"tmp": tmp, "api_env": api, "mlflow": f"http://127.0.0.1:{mlflow_port}", "secret": secret,
               "worker_logs": [tmp / "worker-cpu.log", tmp / "worker-gpu.log"], "make": make, "bare": bare,
               "receiver": receiver, "table_url": table_url}
    finally:
        workers.stop_all()  # make exits first; the prefect worker in its group must be gone too
        stopped = make("stop", env=bare, timeout=120)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        assert stopped.returncode == 0, stopped.stderr
        for port in (prefect_port, mlflow_port):
            assert not port_answers(port), f"port {port} still answers after make stop"


def plain_deploy_env(api: dict[str, str]) -> dict[str, str]:
    """The environment of a user who runs `prefect deploy` by hand: none of the variables make deploy sets."""
    return {key: value for key, value in api.items()
            if key not in ("KERAS_MLOPS_DIR", "MLFLOW_TRACKING_URI", "NIGHTLY_TIMEZONE")}


def worker_logs(team) -> str:
    return "".join(log.read_text(errors="replace")[-3000:] for log in team["worker_logs"])


@contextlib.contextmanager
def prefect_client(team):
    """A client of the team's Prefect server, in this process."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: team["api_env"]["PREFECT_API_URL"],
                             PREFECT_API_AUTH_STRING: team["secret"]["prefect"]}), \
            get_client(sync_client=True) as client:
        yield client


def as_user(monkeypatch, team, name: str, password: str | None = None) -> MlflowClient:
    """A client of the tracking server as `name` (MLflow reads the credentials from the environment)."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", name)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or team["secret"][name])
    return MlflowClient(team["mlflow"])


def run_deployment(team, name: str, params: list[str], watch: bool) -> subprocess.CompletedProcess:
    command = [str(BIN / "prefect"), "deployment", "run", name]
    for param in params:
        command += ["--param", param]
    if watch:
        command += ["--watch", "--watch-interval", "1", "--watch-timeout", "900"]
    return subprocess.run(command, env=team["api_env"], capture_output=True, text=True, timeout=1000)


def created(run: subprocess.CompletedProcess) -> tuple[str, str]:
    """(name, id) of the flow run `prefect deployment run` created."""
    return (re.search(r"Created flow run '([\w-]+)'", run.stdout).group(1),
            re.search(r"UUID: ([0-9a-f-]{36})", run.stdout).group(1))


# The nightly deployment as a user starts it, on a small grid through its parameters, on the gpu pool's worker
# (the whole quick grid runs in-process in tests/flows/test_pipeline.py; candidates on Dask, with the pipeline's
# one cluster for all its stages, in tests/flows/test_task_runners.py). Its data is the deployment's own: the
# team's table.
SMALL_RUN = ["profile=quick", "capacity_units=[[8]]", "dropout_rates=[0.2]", 'schedule_variants=["early-stopping"]',
             "tuner=random", "max_trials=1"]
# At the same time, on the cpu pool's worker: the manual deployment on Parquet parts in the object store.
S3_RUN = [*SMALL_RUN, "data=s3://nightly/events/date=2026-12-*/", "target=target", "experiment=object-store",
          "model_name=object-store-model"]


def wait_final(team, flow_run_id: str, timeout: float = 900):
    deadline = time.monotonic() + timeout
    with prefect_client(team) as prefect:
        while not (state := prefect.read_flow_run(flow_run_id).state).is_final():
            assert time.monotonic() < deadline, f"flow run {flow_run_id} still {state.type}"
            time.sleep(2)
    return state


@pytest.fixture(scope="module")
def nightly_run(team):
    """`prefect deployment run training-pipeline/nightly --watch`, once for the module, and the manual deployment on
    the object store beside it; the nightly's finished run (the other's state is `object_store_run`)."""
    on_s3 = run_deployment(team, "training-pipeline/manual", S3_RUN, watch=False)
    assert on_s3.returncode == 0, on_s3.stdout + on_s3.stderr
    done = run_deployment(team, "training-pipeline/nightly", SMALL_RUN, watch=True)
    assert done.returncode == 0 and "Completed" in done.stdout, done.stdout[-3000:] + worker_logs(team)
    team["object_store_run"] = created(on_s3)[1]
    return done


def test_plain_prefect_deploy_sets_the_checkout_as_working_directory_and_the_tracking_server(team):
    inspect = subprocess.run([str(BIN / "prefect"), "deployment", "inspect", "training-pipeline/manual", "--output",
                              "json"], env=team["api_env"], capture_output=True, text=True, timeout=120)
    manual = json.loads(inspect.stdout)
    assert manual["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]
    assert manual["job_variables"]["env"]["MLFLOW_TRACKING_URI"] == team["mlflow"]
    # What it refuses (no tracking URL, a URL with credentials, not a checkout) is in
    # tests/flows/ops/test_deploy_settings.py; Prefect's CLI prints the refusal and exits non-zero.


def test_no_process_of_the_team_shows_a_password_or_the_auth_string(team, postgres, nightly_run):
    # After a whole run: servers, workers and the flow run's process have all been up. Nor does the deployment
    # (stored in Prefect's database): the workers read the credentials from their own environment.
    deployment = subprocess.run([str(BIN / "prefect"), "deployment", "inspect", "training-pipeline/nightly",
                                 "--output", "json"], env=team["api_env"], capture_output=True, text=True,
                                timeout=120)
    assert deployment.returncode == 0, deployment.stderr
    texts = [*command_lines(), *(log.read_text(errors="replace") for log in team["worker_logs"]), deployment.stdout]
    assert_no_password(postgres, texts)
    for name, value in team["secret"].items():
        value = value.split(":", 1)[-1]
        assert not any(value in text for text in texts), f"the {name} credential appears in an output"


def test_a_nightly_run_through_a_worker_with_credentials_registers_its_champion(team, postgres, nightly_run,
                                                                                 monkeypatch):
    client = MlflowClient(team["mlflow"])  # as the read-only user: reading needs no more
    experiment = client.get_experiment_by_name("keras-mlops")
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].data.tags["outcome"] == "trained"
    assert runs[0].data.tags["device.kind"] == "cpu"
    champion = client.get_model_version_by_alias("keras-mlops-model", "champion")
    assert champion.tags["pipeline.run_id"] == runs[0].info.run_id
    # artifacts went through the tracking server, not to a local path of the worker
    assert runs[0].info.artifact_uri.startswith("mlflow-artifacts:")
    assert (runs[0].data.params["data"], runs[0].data.params["table"]) == (team["table_url"], "events")
    assert runs[0].data.params["capacity_units"] == "[(8,)]"
    # Trained by the worker's flow run process, not by anything of this test.
    flow_process = runs[0].data.tags["owner.process"]
    assert flow_process.rsplit("/", 2)[1] != str(os.getpid())
    candidates = client.search_runs([experiment.experiment_id], "tags.kind = 'candidate'")
    assert candidates and all(r.data.tags["owner.process"] == flow_process for r in candidates)
    # ... and all of it is in PostgreSQL: the runs, the registered model, its champion alias.
    in_postgres = postgres.query("select count(*) from runs join experiments using (experiment_id) where "
                                 "experiments.name = 'keras-mlops' and runs.lifecycle_stage = 'active'")[0][0]
    assert in_postgres == len(client.search_runs([experiment.experiment_id]))
    assert postgres.query("select name, alias, version from registered_model_aliases where name = "
                          "'keras-mlops-model'") == [("keras-mlops-model", "champion", int(champion.version))]
    # The pipeline user made the experiment and the model, so it manages them (MLflow grants their creator);
    # the reader reads them.
    from mlflow.server import get_app_client

    as_user(monkeypatch, team, "admin")
    auth = get_app_client("basic-auth", tracking_uri=team["mlflow"])
    made = {"experiment": experiment.experiment_id, "registered_model": "keras-mlops-model"}
    for user, permission in (("pipeline", "MANAGE"), ("reader", "READ")):
        assert {kind: auth.get_user_permission(user, kind, key).permission for kind, key in made.items()} == {
            "experiment": permission, "registered_model": permission}


def test_the_nightly_deployment_trains_the_teams_table_and_a_run_can_train_parts_in_an_object_store(team,
                                                                                                    nightly_run):
    """Issue 27: the nightly deployment's data is the team's PostgreSQL table (make deploy NIGHTLY_DATA=...), the
    manual one trained Parquet parts on S3 through the cpu worker at the same time; each run and version names the
    rows that made it, and the deployment holds no password."""
    inspect = subprocess.run([str(BIN / "prefect"), "deployment", "inspect", "training-pipeline/nightly", "--output",
                              "json"], env=team["api_env"], capture_output=True, text=True, timeout=120)
    parameters = json.loads(inspect.stdout)["parameters"]
    assert parameters == {"profile": "full", "data": team["table_url"], "table": "events", "target": "target",
                          "query": None}
    client = MlflowClient(team["mlflow"])
    (pipeline,) = client.search_runs([client.get_experiment_by_name("keras-mlops").experiment_id],
                                     "tags.stage = 'pipeline'")
    assert pipeline.data.tags["data.source"] == f"{team['table_url']} table events"
    champion = client.get_model_version_by_alias("keras-mlops-model", "champion")
    assert champion.tags["data.digest"] == pipeline.data.tags["data.digest"]
    state = wait_final(team, team["object_store_run"])
    assert state.is_completed(), (state.message, worker_logs(team))
    on_s3 = client.get_model_version_by_alias("object-store-model", "champion")
    assert on_s3.tags["data.source"] == "s3://nightly/events/date=2026-12-*/"
    # The same rows in both places (the parts split iris in two), read in another order: another digest.
    assert len(on_s3.tags["data.digest"]) == 64 and on_s3.tags["data.digest"] != champion.tags["data.digest"]
    trials = client.search_runs([client.get_experiment_by_name("object-store").experiment_id], "tags.kind = 'trial'")
    assert trials and all({d.dataset.name for d in r.inputs.dataset_inputs} == {"events"} for r in trials)


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


def api_request(url: str, body: dict | None = None, auth: str | None = None) -> urllib.request.Request:
    """A JSON request (a POST when it has a body), signed with an auth string `user:password` when given."""
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if auth:
        for name, value in basic_auth(*auth.split(":", 1)).items():
            request.add_header(name, value)
    return request


def status_of(url: str, body: dict | None = None, auth: str | None = None) -> int:
    try:
        with urllib.request.urlopen(api_request(url, body, auth), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def read_json(url: str, auth: str, body: dict | None = None):
    with urllib.request.urlopen(api_request(url, body, auth), timeout=30) as response:
        return json.loads(response.read())


def test_anonymous_requests_are_refused_and_change_nothing(team, nightly_run, monkeypatch):
    mlflow, prefect = team["mlflow"], team["api_env"]["PREFECT_API_URL"]
    auth = team["secret"]["prefect"]
    champion = MlflowClient(mlflow).get_model_version_by_alias("keras-mlops-model", "champion")
    nightly = read_json(f"{prefect}/deployments/name/training-pipeline/nightly", auth)
    runs_before = read_json(f"{prefect}/flow_runs/count", auth, {})
    refused = {
        "read runs": status_of(f"{mlflow}/api/2.0/mlflow/runs/search", {"experiment_ids": ["1"]}),
        "move the champion": status_of(f"{mlflow}/api/2.0/mlflow/registered-models/alias",
                                       {"name": "keras-mlops-model", "alias": "champion", "version": "1"}),
        "create an experiment": status_of(f"{mlflow}/api/2.0/mlflow/experiments/create", {"name": "anonymous"}),
        "list flow runs": status_of(f"{prefect}/flow_runs/filter", {}),
        "start the nightly deployment": status_of(f"{prefect}/deployments/{nightly['id']}/create_flow_run", {}),
        "... with a wrong auth string": status_of(f"{prefect}/deployments/{nightly['id']}/create_flow_run", {},
                                                  auth="team:wrong-password"),
        "pause the nightly deployment": status_of(f"{prefect}/deployments/{nightly['id']}/pause_deployment", {}),
    }
    assert set(refused.values()) == {401}, refused
    assert read_json(f"{prefect}/flow_runs/count", auth, {}) == runs_before
    assert read_json(f"{prefect}/deployments/name/training-pipeline/nightly", auth)["paused"] is False
    admin = as_user(monkeypatch, team, "admin")
    assert admin.get_experiment_by_name("anonymous") is None
    assert admin.get_model_version_by_alias("keras-mlops-model", "champion").version == champion.version
    wrong = as_user(monkeypatch, team, "reader", password="not-the-password")
    with pytest.raises(MlflowException, match="401"):
        wrong.search_experiments()


def test_a_read_only_user_browses_runs_but_cannot_register_or_move_the_champion(team, nightly_run, monkeypatch):
    reader = MlflowClient(team["mlflow"])
    experiment = reader.get_experiment_by_name("keras-mlops")
    runs = reader.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")
    champion = reader.get_model_version_by_alias("keras-mlops-model", "champion")
    for attempt in (lambda: reader.set_registered_model_alias("keras-mlops-model", "champion", "1"),
                    lambda: reader.delete_registered_model_alias("keras-mlops-model", "champion"),
                    lambda: reader.create_model_version("keras-mlops-model", champion.source, runs[0].info.run_id),
                    lambda: reader.create_run(experiment.experiment_id)):
        with pytest.raises(MlflowException, match="403"):
            attempt()
    after = as_user(monkeypatch, team, "admin")
    assert after.get_model_version_by_alias("keras-mlops-model", "champion").version == champion.version
    assert len(after.search_model_versions("name = 'keras-mlops-model'")) == 1


def test_a_nightly_run_that_runs_late_or_fails_is_posted_to_the_webhook(team, nightly_run, bad_data_runs):
    receiver, ui = team["receiver"], team["api_env"]["PREFECT_API_URL"].removesuffix("/api")
    name, _ = created(nightly_run)
    # The small run took longer than the 14.4 s deadline make deploy was given: a notice while it ran.
    late = receiver.wait_for([name, "not finished after 0.004 h"])
    assert f"{ui}/runs/flow-run/" in late["text"]
    # The nightly run on bad data failed: a notice with its name, state and message.
    (failed_name, expected), = [(run_name, expected) for deployment, run_name, _, expected
                                in bad_data_runs[0].values() if deployment == "nightly"]
    notice = receiver.wait_for([failed_name, "Failed", expected[0]], timeout=180)
    assert notice["subject"] == f"keras-mlops: nightly run {failed_name} Failed"
    assert f"{ui}/runs/flow-run/" in notice["body"]
    # ... and nothing about the manual deployment's failed run: the notices watch the nightly one only.
    manual = [run_name for deployment, run_name, _, _ in bad_data_runs[0].values() if deployment == "manual"]
    assert not any(run_name in notice["text"] for notice in receiver.received for run_name in manual)


def test_make_server_on_the_network_refuses_to_start_without_credentials(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in CREDENTIALS}
    ports = [f"PREFECT_PORT={free_port()}", f"MLFLOW_PORT={free_port()}", f"RUN_DIR={tmp_path / 'run'}"]
    for given, missing in (({}, ["MLFLOW_AUTH_ADMIN_PASSWORD", "PREFECT_API_AUTH_STRING"]),
                           ({"MLFLOW_AUTH_ADMIN_PASSWORD": "a-long-enough-password"}, ["PREFECT_API_AUTH_STRING"])):
        done = subprocess.run(["make", "-s", "server", "HOST=0.0.0.0", *ports], cwd=ROOT, env={**env, **given},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode != 0, done.stdout
        refusal = done.stderr.splitlines()[0]
        assert "HOST=0.0.0.0" in refusal and "Nothing was started" in refusal
        assert f"set {' and '.join(missing)} first" in refusal
        assert not (tmp_path / "run" / "servers.json").exists()
    short = subprocess.run(["make", "-s", "server", *ports], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**env, "MLFLOW_AUTH_ADMIN_PASSWORD": "short"})
    assert short.returncode != 0 and "shorter than 12 characters" in short.stderr


def test_the_mlflow_ui_lists_the_pipeline_runs_in_a_real_browser(team, nightly_run):
    client = MlflowClient(team["mlflow"])
    experiment = client.get_experiment_by_name("keras-mlops")
    names = [r.info.run_name for r in client.search_runs([experiment.experiment_id], "tags.stage = 'pipeline'")]
    url = f"{team['mlflow']}/#/experiments/{experiment.experiment_id}/runs"
    # Signed in as the reader: the header the browser sends once its login prompt is answered.
    with Browser(team["tmp"] / "chromium-mlflow") as browser:
        browser.headers(basic_auth("reader", team["secret"]["reader"]))
        browser.open(url)
        text = browser.text_once(names)
        assert names and all(name in text for name in names), text[-2000:]
        screenshot = team["tmp"] / "mlflow-ui.png"
        screenshot.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot")["data"]))
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


def test_the_prefect_ui_on_another_port_asks_for_the_auth_string_then_lists_the_flow_runs(team, nightly_run):
    """The team's Prefect server is not on 4200 (a free port): its UI must call the API where it is served; with
    the auth string on, it shows nothing until the user signs in on its login form."""
    name, flow_run_id = created(nightly_run)
    ui = team["api_env"]["PREFECT_API_URL"].removesuffix("/api")
    with Browser(team["tmp"] / "chromium-prefect") as browser:
        browser.open(f"{ui}/runs")
        before = browser.text_once(["Authentication failed"])
        assert "Authentication failed" in before and name not in before, before[-2000:]
        browser.open(f"{ui}/")
        assert "Login" in browser.text_once(["Login"])
        # As a user types it: the auth string into the form's field, then the Login button.
        browser.run('document.querySelector(\'input[placeholder="admin:pass"]\').focus()')
        browser.call("Input.insertText", text=team["secret"]["prefect"])
        browser.run("[...document.querySelectorAll('button')].find(b => b.innerText.includes('Login')).click()")
        browser.text_once(["Dashboard"])
        # The runs page lists the run (a real rendering: a `--dump-dom` snapshot had not drawn the list's rows);
        # the flow run's own page names it too.
        browser.open(f"{ui}/runs")
        runs = browser.text_once(["training-pipeline", name])
        browser.open(f"{ui}/flow-runs/flow-run/{flow_run_id}")
        run = browser.text_once([name])
    assert "Can't connect to Server API" not in runs + run and "Authentication failed" not in runs + run
    assert "training-pipeline" in runs and name in runs, runs[-2000:]
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


@pytest.fixture(scope="module")
def bad_data_runs(team, nightly_run):
    """Two runs on bad data, one per deployment and worker at once; {case: (deployment, flow run name, final
    state, what its message must say)} and the champion before them."""
    from tests.flows.test_bad_input import DATA_CASES

    folder = team["tmp"] / "bad-data"
    folder.mkdir()
    # One case the data layer refuses (on the nightly deployment: its failure is posted, below) and one config
    # check the schema cannot express. Every data case runs through the same flow, in-process, in
    # tests/flows/test_bad_input.py; a worker's flow run costs ~10 s of imports each on 2 cores.
    cases = {"target column missing": ("nightly", *DATA_CASES["target column missing"]),
             "fractions not summing to 1": ("manual", lambda d: "digits", ["--train-fraction", "0.5"],
                                            ["must sum to 1"])}
    champion_before = MlflowClient(team["mlflow"]).get_model_version_by_alias("keras-mlops-model", "champion")
    flow_runs = {}
    for index, (name, (deployment, build, extra, expected)) in enumerate(cases.items()):
        case_folder = folder / str(index)
        case_folder.mkdir()
        params = {"data": build(case_folder), "experiment": "bad-input", "model_name": "bad-input",
                  "profile": "quick", **dict(zip([a.removeprefix("--").replace("-", "_") for a in extra[::2]],
                                                 extra[1::2], strict=True))}
        # The nightly deployment reads a table; a file given instead runs without it (JSON null).
        done = run_deployment(team, f"training-pipeline/{deployment}", [f"{k}={v}" for k, v in params.items()]
                              + (["table=null"] if deployment == "nightly" else []), watch=False)
        assert done.returncode == 0, done.stdout + done.stderr
        flow_runs[name] = (deployment, *created(done), expected)
    deadline, finished = time.monotonic() + 900, {}
    with prefect_client(team) as prefect:
        for name, (deployment, run_name, flow_run_id, expected) in flow_runs.items():
            while not (state := prefect.read_flow_run(flow_run_id).state).is_final():
                assert time.monotonic() < deadline, f"{name}: flow run still {state.type}"
                time.sleep(2)
            finished[name] = (deployment, run_name, state, expected)
    return finished, champion_before.version


def test_bad_data_fails_the_deployment_run_and_writes_nothing(team, bad_data_runs):
    finished, champion_before = bad_data_runs
    for name, (_, _, state, expected) in finished.items():
        assert state.is_failed(), (name, state)
        for text in expected:
            assert text in state.message, (name, text, state.message)
    client = MlflowClient(team["mlflow"])
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
