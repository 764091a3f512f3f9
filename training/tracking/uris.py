"""Where the tracking store is: the tracking URI a run uses, where local artifacts go, how a person opens it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from training.config import redact_uri

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The checkout when the package is installed from one (editable), else the working directory."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd()


def default_tracking_uri() -> str:
    return f"sqlite:///{project_root() / 'mlruns' / 'mlflow.db'}"


def resolve_tracking_uri(explicit: str | None = None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the local store under mlruns/."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def is_remote(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def ui_command(tracking_uri: str) -> str:
    if is_remote(tracking_uri):
        return f"open {tracking_uri}"
    return f"make ui   (or: mlflow ui --backend-store-uri {tracking_uri} --host 127.0.0.1 --port 5000)"


def ui_base(tracking_uri: str, local_port: int = 5000) -> str:
    """Where a person opens the UI: the tracking server, or `make ui`'s on loopback for a local store."""
    return (redact_uri(tracking_uri) if is_remote(tracking_uri) else f"http://127.0.0.1:{local_port}").rstrip("/")


def runs_page(base: str, experiment_id: str) -> str:
    """An experiment's "Training runs" page. MLflow 3.17's UI opens a fresh browser on its GenAI overview, whatever
    the experiment's kind (mlflow#24498): a newcomer would land on traces and token charts, so this is the link."""
    return f"{base}/#/experiments/{experiment_id}/runs"


def local_artifact_root(tracking_uri: str) -> Path | None:
    """For a local SQLite store, artifacts go beside the database, wherever the command was started."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts"
    return None


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "experiment"
