"""The settings `prefect deploy` writes into every deployment of prefect.yaml, with their defaults.

prefect.yaml runs `team_settings` as a build step, so plain `prefect --no-prompt deploy --all` from the checkout
works as `make deploy` does: Prefect's `{{ $VAR }}` is an empty string when VAR is unset, and an empty working
directory made every flow run crash at start (FileNotFoundError on flows/pipeline.py in a temporary folder).
What cannot be defaulted is refused here, at deploy time, with what to set.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

ENTRYPOINT = Path("flows") / "pipeline.py"


class DeploySettingsError(ValueError):
    """A setting prefect.yaml needs is missing or wrong; the message says what to set."""


def working_directory(given: str) -> str:
    """Where workers run flows from: KERAS_MLOPS_DIR, else the folder `prefect deploy` runs in."""
    folder = Path(given or os.getcwd()).expanduser().resolve()
    if not (folder / ENTRYPOINT).is_file():
        named = f"KERAS_MLOPS_DIR={given}" if given else f"the current folder {folder}"
        raise DeploySettingsError(f"{named} is not a keras-mlops checkout (no {ENTRYPOINT}): run `prefect deploy` "
                                  "from the checkout, or set KERAS_MLOPS_DIR to the checkout the workers run from")
    return str(folder)


def tracking_uri(given: str) -> str:
    """The MLflow server every flow run logs to. Required: a worker's default would be its own local store."""
    if not given:
        raise DeploySettingsError("MLFLOW_TRACKING_URI is not set: export the URL `make server` printed (export "
                                  "MLFLOW_TRACKING_URI=http://HOST:5000), or deploy with `make deploy`")
    parts = urlsplit(given)
    if parts.username or parts.password:
        # The URL is stored in every deployment, readable by everyone with access to the Prefect server.
        raise DeploySettingsError("MLFLOW_TRACKING_URI holds credentials: they would be stored in the deployments. "
                                  "Give the URL without them; workers read MLFLOW_TRACKING_USERNAME and "
                                  "MLFLOW_TRACKING_PASSWORD from their own environment")
    return given


def timezone(given: str) -> str:
    name = given or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DeploySettingsError(f"NIGHTLY_TIMEZONE={name} is not a time zone (e.g. UTC, Europe/Berlin)") from None
    return name


def team_settings(directory: str = "", mlflow_tracking_uri: str = "", nightly_timezone: str = "") -> dict[str, str]:
    """The build step of prefect.yaml: its outputs are `{{ team.directory }}` and so on."""
    return {"directory": working_directory(directory), "mlflow_tracking_uri": tracking_uri(mlflow_tracking_uri),
            "nightly_timezone": timezone(nightly_timezone)}
