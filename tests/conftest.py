import os

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
