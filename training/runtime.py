"""Process-wide defaults that must be in place before TensorFlow, MLflow or Prefect are imported.

Kept here, not in each entry point, because a Prefect worker imports the flow modules directly and
never passes through our CLI.
"""

from __future__ import annotations

import logging
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
    # Plots are files, never windows: MLflow's evaluation draws through pyplot, on headless workers.
    "MPLBACKEND": "Agg",
    # Our progress lines reach the Prefect UI too when a worker runs the flow.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "keras_mlops",
    # Calls of tasks outside a flow (unit tests, notebooks) should not warn.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "KERAS_BACKEND": "tensorflow",
    # A Dask cluster (task_runner=dask) logs every worker start and stop at INFO; warnings still show.
    "DASK_LOGGING__DISTRIBUTED": "warning",
}


def apply_environment_defaults() -> None:
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Every candidate and trial is a new model, so TensorFlow retraces its functions by design and warns
    # "triggered tf.function retracing" on the console; errors still show.
    logger = logging.getLogger("tensorflow")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


def threads_per_share(shares: int, cores: int | None = None) -> int:
    """The cores of this machine split between `shares` trainings that run at once (at least one each)."""
    return max(1, (cores or os.cpu_count() or 1) // shares)


def thread_environment(shares: int, cores: int | None = None) -> dict[str, str]:
    """The same split for a child process: TensorFlow reads these when the process first imports it."""
    return {"TF_NUM_INTRAOP_THREADS": str(threads_per_share(shares, cores)), "TF_NUM_INTEROP_THREADS": "1"}


def limit_tensorflow_threads(max_parallel: int, cores: int | None = None) -> int | None:
    """Share the cores between candidates trained at once, so parallel fits don't fight over threads.

    TensorFlow accepts this only before its runtime starts (the first op); later calls change nothing,
    and the return value says so (None). Returns the intra-op thread count that was set.
    """
    if max_parallel <= 1:
        return None
    import tensorflow as tf

    threads = threads_per_share(max_parallel, cores)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2))
    except RuntimeError:
        return None
    return threads
