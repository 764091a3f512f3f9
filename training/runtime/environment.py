"""Process-wide defaults that must be in place before TensorFlow or MLflow are imported, and the cores shared
between trainings.

Importing `training` changes nothing: the entry points apply these (flows/__init__.py, which a Prefect worker
imports before any flow module, with Prefect's own; the benchmarks; the tests' conftest).
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
    # Plots are files, never windows: MLflow's evaluation draws through pyplot, on headless workers.
    "MPLBACKEND": "Agg",
    "KERAS_BACKEND": "tensorflow",
    # MLflow 3.17 finds this checkout's uv.lock and copies it with pyproject.toml into every logged model, and
    # `--env-manager uv` then restores the whole project's environment (Prefect, the MLflow server, ...) instead
    # of the model's own requirements: a served model needs only those, and a candidate need not carry 600 KB.
    "MLFLOW_UV_AUTO_DETECT": "false",
    "MLFLOW_LOG_UV_FILES": "false",
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
