"""Prefect flows: one per stage plus the pipeline that chains them. Wiring only; running it as a team is in ops/."""

import os

from training.runtime.environment import apply_environment_defaults

# setdefault: a user's explicit choice in the environment always wins.
ORCHESTRATION_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # An ephemeral Prefect server needs longer than the default 20 s to start on 2 busy cores.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # Our progress lines reach the Prefect UI too when a worker runs the flow.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "keras_mlops",
    # Calls of tasks outside a flow (unit tests, notebooks) should not warn.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # A Dask cluster (task_runner=dask) logs every worker start and stop at INFO; warnings still show.
    "DASK_LOGGING__DISTRIBUTED": "warning",
}


def apply_flow_defaults() -> None:
    """Prefect's and Dask's quiet, offline defaults and training's (TensorFlow, MLflow), before any is imported."""
    for key, value in ORCHESTRATION_DEFAULTS.items():
        os.environ.setdefault(key, value)
    apply_environment_defaults()


# Before prefect, mlflow or tensorflow are imported by any flow module (a worker imports them directly).
apply_flow_defaults()
