import os
from dataclasses import dataclass

import pytest

import training  # noqa: F401  (quiet TF/MLflow/Prefect environment before anything imports them)

# Tests never write into the user's local store or home: each gets its own tracking store.
os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture
def tracking_uri(tmp_path):
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for flow tests (one per session: it takes ~12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


SECRETS = {"AWS_SECRET_ACCESS_KEY": "aws-secret-3f9c1e", "MLFLOW_TRACKING_TOKEN": "mlflow-token-8b2d7a",
           "DATABASE_PASSWORD": "db-password-5e61c0"}


@dataclass
class QuickPipeline:
    result: object
    client: object
    uri: str
    model_name: str


@pytest.fixture(scope="session")
def quick_pipeline(prefect_harness, tmp_path_factory):
    """One quick pipeline run on digits, shared by the flow tests (it takes about a minute)."""
    from mlflow import MlflowClient

    from flows.pipeline import training_pipeline

    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    work = tmp_path_factory.mktemp("work")
    # Secrets in the environment, as on a real worker; tests/flows/test_secrets.py looks for them in MLflow.
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    try:
        result = training_pipeline(profile="quick", tracking_uri=uri, experiment="pipeline-test",
                                   work_dir=str(work), model_name="digits-test")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert list(work.iterdir()) == []  # the finished search's project folder is cleaned up
    return QuickPipeline(result, MlflowClient(uri), uri, "digits-test")
