"""Users and their permissions on a tracking server that runs MLflow's basic-auth app (`make user`)."""

from __future__ import annotations

from collections.abc import Callable

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

from training.tracking.errors import none_if_missing, not_found


def add_user(tracking_uri: str, name: str, password: Callable[[], str], permission: str, experiment: str,
             model: str) -> list[str]:
    """Create `name` unless it exists (asking `password()` only then), and grant `permission` on the experiment
    and the registered model where they exist; what was done, one line each. The caller is an admin (its
    credentials: MLFLOW_TRACKING_USERNAME/PASSWORD)."""
    auth = get_app_client("basic-auth", tracking_uri=tracking_uri)
    done = []
    try:
        auth.get_user(name)
        done.append(f"user {name} exists (password unchanged)")
    except MlflowException as error:
        if not not_found(error):
            raise
        auth.create_user(name, password())
        done.append(f"created user {name}")
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        done.append(f"experiment {experiment} does not exist yet: whoever creates it manages it")
    else:
        auth.grant_user_permission(name, "experiment", found.experiment_id, permission)
        done.append(f"{permission} on experiment {experiment}")
    if none_if_missing(lambda: client.get_registered_model(model)) is None:
        done.append(f"registered model {model} does not exist yet: whoever registers it manages it")
    else:
        auth.grant_user_permission(name, "registered_model", model, permission)
        done.append(f"{permission} on registered model {model}")
    return done
