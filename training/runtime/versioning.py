"""What a run was made from: the code's version and the config's hash, so unchanged nights can be skipped."""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGE_DIRS = ("training", "tuning", "flows")
ROOT = Path(__file__).resolve().parents[2]  # the checkout
# Where candidates train: with every layer seeded from the run's seed, a candidate scores the same in the flow's
# thread, next to another, or on a Dask worker (bench/parallel.py). Not tuner_workers: a distributed search
# draws its trials as the workers report the space, so it may try other hyperparameters than one process.
WHERE_IT_RUNS = frozenset({"max_parallel", "task_runner", "dask_address", "dask_workers"})
# Settings that change where results go, where or how fast they come, not what is trained.
# The promotion gate's margins decide nothing that is trained: an unchanged night with another gate promotes
# nothing new either.
NOT_AFFECTING_RESULTS = {"tracking_uri", "experiment", "model_name", "force", "work_dir", "min_improvement",
                         "min_relative_improvement", *WHERE_IT_RUNS,
                         # how tonight's data is judged: it decides whether a night trains, never what it trains
                         "on_drift", "drift_warn", "drift_threshold", "min_rows_share", "max_null_increase",
                         "max_unseen_share", "accept_schema_change"}


def code_version(root: Path = ROOT) -> str:
    """A hash of the project's Python sources: any change to the code gives another version."""
    digest = hashlib.sha256()
    for folder in PACKAGE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git_commit(root: Path = ROOT) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def config_hash(config: dict) -> str:
    """A short hash of the settings that change what is trained (also used for library versions)."""
    relevant = {k: v for k, v in config.items() if k not in NOT_AFFECTING_RESULTS}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


def library_versions() -> dict[str, str]:
    names = ("tensorflow", "keras", "keras-tuner", "mlflow", "prefect", "pandas", "numpy", "scikit-learn")
    return {name: metadata.version(name) for name in names}
