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
    result = training_pipeline(profile="quick", tracking_uri=uri, experiment="pipeline-test", work_dir=str(work),
                               model_name="digits-test")
    assert list(work.iterdir()) == []  # the finished search's project folder is cleaned up
    return QuickPipeline(result, MlflowClient(uri), uri, "digits-test")
