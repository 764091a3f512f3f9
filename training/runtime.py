"""Process-wide defaults that must be in place before TensorFlow, MLflow or Prefect are imported.

Kept here, not in each entry point, because a Prefect worker imports the flow modules directly and
never passes through our CLI.
"""

from __future__ import annotations

import os

# setdefault everywhere: a user's explicit choice in the environment always wins.
QUIET_DEFAULTS = {
    # TensorFlow prints C++ INFO lines and a oneDNN notice on import; both need silencing.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # No telemetry leaves the machine (and none hangs on a closed network).
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # An ephemeral Prefect server needs longer than the default 20 s to start on 2 busy cores.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # Our progress lines reach the Prefect UI too when a worker runs the flow.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "keras_mlops",
    # Calls of tasks outside a flow (unit tests, notebooks) should not warn.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "KERAS_BACKEND": "tensorflow",
}


def apply_environment_defaults() -> None:
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
