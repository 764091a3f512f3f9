import contextlib
import os
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import flows  # noqa: F401  (quiet TF/MLflow/Prefect environment before anything imports them)
from tests.support import SESSION_MARK, Processes, marked_processes

# Tests never write into the user's local store or home: each gets its own tracking store.
os.environ.pop("MLFLOW_TRACKING_URI", None)


def pytest_configure(config):
    # Inherited by every process a test starts (xdist's workers too): what still carries it at the end was left
    # running.
    os.environ.setdefault(SESSION_MARK, uuid.uuid4().hex)
    absl_logs_to_the_real_stderr()


def absl_logs_to_the_real_stderr() -> None:
    """absl (TensorFlow imports it) makes its log handler on whatever sys.stderr is at the time: here, pytest's
    capture file. When logging is configured again (Prefect's dictConfig closes every handler there is) while a
    test's capsys has swapped sys.stderr, absl takes that file for its own and closes it, and every later test of
    the process fails with "I/O operation on closed file". The real stderr is one absl never closes."""
    from absl import logging as absl_logging

    absl_logging.get_absl_handler().python_handler.stream = sys.__stderr__


# `make test` runs two pytest-xdist workers, one per core. Session fixtures are made once per worker, so the
# modules that share the quick and regression pipelines go to one worker as one work unit (else each worker
# would train them); the team setup (servers, workers, a pipeline run through them) is a second unit, for the
# other worker. Every other module is a unit of its own, taken by whichever worker is free: the two big units
# go first, one to each worker, then the longest single modules, and the small ones even out the two workers'
# time. (The other modules that start servers were part of the second unit until the team setup grew to
# credentials and notices; alone they are what lets the two workers end together.)
SHARED_PIPELINES = ("tests/flows/test_pipeline.py", "tests/flows/test_promotion.py", "tests/flows/test_secrets.py",
                    "tests/flows/test_task_runners.py", "tests/flows/test_regression.py", "tests/flows/test_resume.py",
                    "tests/flows/test_nightly.py", "tests/tuning/test_distributed.py")
OWN_SERVERS = ("tests/e2e/test_deployments.py",)
LONG_MODULES = ("tests/flows/test_signals.py", "tests/flows/test_images.py", "tests/flows/test_data_checks.py")
SHARED_UNIT, OWN_SERVERS_UNIT = "shared-pipelines", "own-servers"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from tests.compat import unit_scheduler

    def unit_of(nodeid: str) -> str:
        if nodeid.startswith(SHARED_PIPELINES):
            return SHARED_UNIT
        if nodeid.startswith(OWN_SERVERS):
            return OWN_SERVERS_UNIT
        return nodeid.split("::", 1)[0]

    return unit_scheduler(config, log, unit_of, first=(SHARED_UNIT, OWN_SERVERS_UNIT, *LONG_MODULES))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # pytest-randomly names its seed in the header, which -q hides: the order of a failing run can be repeated.
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"random order: repeat it with make test PYTEST_ARGS=\"--randomly-seed={seed}\"")


@pytest.hookimpl(trylast=True)  # after pytest's own sessionfinish, which tears down what an early stop left
def pytest_sessionfinish(session, exitstatus):
    """Every server, worker and cluster a test started is gone by now; whatever is left is reported, killed,
    and fails the run (an interrupted run or a usage error keeps its own exit status)."""
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR):
        return
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks once all have ended
        return
    mark = os.environ[SESSION_MARK]
    deadline = time.monotonic() + 20  # processes told to stop may still be on their way out
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if not left:
        return
    for pid, _ in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = "\n".join(f"  pid {pid}: {command[:200]}" for pid, command in left)
    if reporter:
        reporter.write_line(f"\nERROR: {len(left)} process(es) started by the tests were still running "
                            f"(now killed):\n{lines}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def store_template(tmp_path_factory):
    """An MLflow SQLite store, migrated once (~3 s on 2 cores); each test gets a copy of the file."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store-template") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()  # creates and migrates the schema
    return path


@pytest.fixture
def tracking_uri(tmp_path, store_template):
    folder = tmp_path / "mlruns"
    folder.mkdir()
    shutil.copyfile(store_template, folder / "mlflow.db")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture
def processes():
    """Start servers and workers through this; each process group is stopped when the test ends, however."""
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for flow tests (one per session: it takes ~12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


SECRETS = {"AWS_SECRET_ACCESS_KEY": "aws-secret-3f9c1e", "MLFLOW_TRACKING_TOKEN": "mlflow-token-8b2d7a",
           "DATABASE_PASSWORD": "db-password-5e61c0"}


@dataclass
class PipelineRun:
    result: object
    client: object
    uri: str
    model_name: str
    options: dict  # the flow's arguments, so a test can run the same pipeline again
    resumed: object = None  # how it was finished, when it went the resume path


def pipeline_options(tmp_path_factory, name: str, **options) -> dict:
    """The flow's arguments with a store and a working folder of this pipeline's own."""
    return {**options, "tracking_uri": f"sqlite:///{tmp_path_factory.mktemp(f'{name}-store') / 'mlflow.db'}",
            "work_dir": str(tmp_path_factory.mktemp(f"{name}-work"))}


def run_pipeline(tmp_path_factory, name: str, **options) -> PipelineRun:
    from mlflow import MlflowClient

    from flows.pipeline import training_pipeline

    options = pipeline_options(tmp_path_factory, name, **options)
    uri, work = options["tracking_uri"], Path(options["work_dir"])
    result = training_pipeline(**options)
    assert list(work.iterdir()) == []  # the finished search's project folder is cleaned up
    return PipelineRun(result, MlflowClient(uri), uri, options["model_name"], options)


@pytest.fixture(scope="session")
def quick_pipeline(prefect_harness, tmp_path_factory):
    """One quick pipeline run on digits, shared by the flow tests (it takes about a minute)."""
    # Secrets in the environment, as on a real worker; tests/flows/test_secrets.py looks for them in MLflow.
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    try:
        return run_pipeline(tmp_path_factory, "quick", profile="quick", experiment="pipeline-test",
                            model_name="digits-test")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# A regression pipeline as small as the stages allow: one capacity, dropout and schedule variant, one trial.
REGRESSION = {"data": "diabetes", "profile": "quick", "capacity_units": [[16]], "dropout_rates": [0.2],
              "schedule_variants": ["early-stopping"], "tuner": "random", "max_trials": 1,
              "experiment": "regression-test", "model_name": "diabetes-test"}


@dataclass
class Resumed:
    """How the regression pipeline got finished: what tests/flows/test_resume.py checks."""

    run_id: str  # the pipeline run that failed, then was resumed
    status_after_failure: str
    other_config_refused: str  # the error of resuming it with another seed
    status_after_refusal: str
    exit_code: int  # of `python -m flows run --resume RUN`
    fits: list  # the spec of every fit, in order: the failed attempt's, then the resumed one's


@pytest.fixture(scope="session")
def regression_pipeline(prefect_harness, tmp_path_factory):
    """One small pipeline on the bundled diabetes set (regression, selected on val_loss), shared.

    It is also the resume scenario (one pipeline instead of two): its first attempt fails in the schedule
    stage, resuming it with another config is refused, and `python -m flows run --resume RUN` finishes it.
    The result is the resumed run's own: every regression test reads a pipeline that went the resume path.
    """
    import flows.pipeline
    import training.tracking.candidates
    from flows.__main__ import main

    options = pipeline_options(tmp_path_factory, "regression", **REGRESSION)
    uri, work = options["tracking_uri"], Path(options["work_dir"])
    real_fit, real_flow, fits, results = training.tracking.candidates.fit, flows.pipeline.training_pipeline, [], []

    def fit_failing_once_in_schedule(spec, *args, **kwargs):
        if kwargs.get("model") is not None:  # a tuner trial (Keras Tuner built its model): not a stage candidate
            return real_fit(spec, *args, **kwargs)
        fits.append(spec)
        if spec.early_stopping and not any(f.early_stopping for f in fits[:-1]):
            raise RuntimeError("injected failure in the schedule stage")
        return real_fit(spec, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training.tracking.candidates, "fit", fit_failing_once_in_schedule)
        with pytest.raises(RuntimeError, match="injected failure"):
            real_flow(**options)
        from mlflow import MlflowClient

        client = MlflowClient(uri)
        (failed,) = client.search_runs([client.get_experiment_by_name(REGRESSION["experiment"]).experiment_id],
                                       "tags.stage = 'pipeline'")
        with pytest.raises(ValueError) as refused:
            real_flow(**{**options, "seed": 7}, resume=failed.info.run_id)
        status_after_refusal = client.get_run(failed.info.run_id).info.status
        # The CLI's own flow call, its result kept for the tests (the CLI prints a summary of it).
        patch.setattr(flows.pipeline, "training_pipeline", lambda **kwargs: results.append(real_flow(**kwargs))
                      or results[-1])
        code = main(["run", "--resume", failed.info.run_id, "--tracking-uri", uri])
    assert code == 0 and len(results) == 1
    assert list(work.iterdir()) == []  # the finished search's project folder is cleaned up
    return PipelineRun(results[0], client, uri, REGRESSION["model_name"], options, resumed=Resumed(
        failed.info.run_id, failed.info.status, str(refused.value), status_after_refusal, code, fits))
