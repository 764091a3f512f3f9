"""The settings `prefect deploy` writes into every deployment of prefect.yaml, with their defaults: where workers
run, which tracking server they log to, the nightly schedule's zone, and the data the nightly deployment trains on
(NIGHTLY_DATA with NIGHTLY_TARGET, and NIGHTLY_TABLE or NIGHTLY_QUERY for a database; without them the bundled
demo set, said at deploy time).

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

from training.config import redact_uri

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


NIGHTLY_FIELDS = ("data", "target", "table", "query")


def nightly_parameters(data: str = "", target: str = "", table: str = "", query: str = "") -> dict:
    """The nightly deployment's data, each of `NIGHTLY_FIELDS` (None where not given; the bundled demo set without
    NIGHTLY_DATA, said here), checked now as a run would check it: a URL with a password, or a database without a
    table or query, is refused at deploy time, not at 03:00."""
    from pydantic import ValidationError

    from training.config import PipelineConfig

    if not data and (target or table or query):
        raise DeploySettingsError("NIGHTLY_TARGET, NIGHTLY_TABLE and NIGHTLY_QUERY describe NIGHTLY_DATA, which is "
                                  "not set: export NIGHTLY_DATA too (a file, parts, an object store or a database)")
    parameters = {"data": data or PipelineConfig().data, "target": target or None, "table": table or None,
                  "query": query or None}
    try:
        PipelineConfig(**parameters)
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise DeploySettingsError(f"NIGHTLY_DATA={redact_uri(data)}: {problems}") from None
    if not data:
        print(f"the nightly deployment will train the bundled demo set ({parameters['data']}): export "
              "NIGHTLY_DATA and NIGHTLY_TARGET (and NIGHTLY_TABLE or NIGHTLY_QUERY for a database) to train your data")
    return parameters


def team_settings(directory: str = "", mlflow_tracking_uri: str = "", nightly_timezone: str = "",
                  nightly_data: str = "", nightly_target: str = "", nightly_table: str = "",
                  nightly_query: str = "") -> dict:
    """The build step of prefect.yaml: its outputs are `{{ team.directory }}` and so on, and the nightly
    deployment's data as `{{ team.nightly_data }}`, `{{ team.nightly_target }}`, ... (each a whole value: Prefect
    hands a placeholder that is the whole string over with its own type, None included)."""
    nightly = nightly_parameters(nightly_data, nightly_target, nightly_table, nightly_query)
    return {"directory": working_directory(directory), "mlflow_tracking_uri": tracking_uri(mlflow_tracking_uri),
            "nightly_timezone": timezone(nightly_timezone), **{f"nightly_{k}": v for k, v in nightly.items()}}
