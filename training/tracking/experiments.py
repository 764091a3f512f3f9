"""Finding an experiment without touching anything else of the project (`make ui` asks before the UI starts)."""

from __future__ import annotations

from mlflow import MlflowClient


def experiment_id(tracking_uri: str, name: str) -> str | None:
    """The id of the active experiment `name` in the store, or None; creates nothing."""
    found = MlflowClient(tracking_uri).get_experiment_by_name(name)
    return found.experiment_id if found is not None and found.lifecycle_stage == "active" else None
