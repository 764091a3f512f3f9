"""Credentials for `make server`, with the servers' own mechanisms, read from the environment only.

- MLflow: its basic-auth app. MLFLOW_AUTH_ADMIN_PASSWORD (MLflow's own variable) turns it on and is the admin's
  password the first time the user store is made; MLFLOW_AUTH_ADMIN_USERNAME names the admin (default admin).
  Users and their permissions per experiment and registered model live in a database of their own
  (`make user` adds them). A user with no permission of their own reads everything and changes nothing of others.
- Prefect: its API auth string. PREFECT_API_AUTH_STRING (the one every client sends) is given to the server as
  PREFECT_SERVER_API_AUTH_STRING.

On loopback both stay off unless their variable is set (the first run on a laptop needs no password); on any
other address `make server` refuses to start without both.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from training.config import redact_uri

MIN_PASSWORD = 12  # MLflow's own minimum: refused here before anything starts, not in its log
SECRET_VARIABLES = ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY", "PREFECT_API_AUTH_STRING",
                    "PREFECT_SERVER_API_AUTH_STRING", "MLFLOW_TRACKING_PASSWORD")


@dataclass(frozen=True)
class Credentials:
    mlflow_admin: str
    mlflow_admin_password: str | None
    prefect_auth_string: str | None
    flask_secret_key: str | None

    @classmethod
    def from_environment(cls, environ) -> Credentials:
        return cls(mlflow_admin=environ.get("MLFLOW_AUTH_ADMIN_USERNAME") or "admin",
                   mlflow_admin_password=environ.get("MLFLOW_AUTH_ADMIN_PASSWORD") or None,
                   prefect_auth_string=(environ.get("PREFECT_SERVER_API_AUTH_STRING")
                                        or environ.get("PREFECT_API_AUTH_STRING") or None),
                   flask_secret_key=environ.get("MLFLOW_FLASK_SERVER_SECRET_KEY") or None)

    def prefect_server_env(self) -> dict[str, str]:
        if not self.prefect_auth_string:
            return {}
        return {"PREFECT_SERVER_API_AUTH_STRING": self.prefect_auth_string,
                "PREFECT_API_AUTH_STRING": self.prefect_auth_string}

    def describe(self, auth_store_uri: str) -> str:
        parts = []
        if self.mlflow_admin_password:
            parts.append(f"MLflow basic-auth (admin '{self.mlflow_admin}'; users and permissions in "
                         f"{redact_uri(auth_store_uri)}; add users with `make user`)")
        if self.prefect_auth_string:
            parts.append("Prefect API auth string")
        if not parts:
            return "none (loopback only: every user of this machine can use both servers)"
        return "; ".join(parts) + " (clients: MLFLOW_TRACKING_USERNAME/PASSWORD, PREFECT_API_AUTH_STRING)"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only: every address it names is a loopback one."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback
                                   for address in addresses)


def auth_problem(host: str, credentials: Credentials) -> str | None:
    """Why the servers may not start on `host` with these credentials, or None."""
    if credentials.mlflow_admin_password and len(credentials.mlflow_admin_password) < MIN_PASSWORD:
        return f"MLFLOW_AUTH_ADMIN_PASSWORD is shorter than {MIN_PASSWORD} characters (MLflow's minimum)"
    if is_loopback(host):
        return None
    missing = [name for name, value in (("MLFLOW_AUTH_ADMIN_PASSWORD", credentials.mlflow_admin_password),
                                        ("PREFECT_API_AUTH_STRING", credentials.prefect_auth_string)) if not value]
    if missing:
        return (f"HOST={host} lets every machine that reaches this one read and change the servers; set "
                f"{' and '.join(missing)} first (MLFLOW_AUTH_ADMIN_PASSWORD: the MLflow admin's password, at least "
                f"{MIN_PASSWORD} characters; PREFECT_API_AUTH_STRING: user:password for Prefect's API). Nothing "
                "was started")
    return None


def without_secrets(environ: dict[str, str]) -> dict[str, str]:
    """The environment less every credential: each server gets only its own (below)."""
    return {key: value for key, value in environ.items() if key not in SECRET_VARIABLES}


def mlflow_auth_env(credentials: Credentials, auth_store_uri: str, folder: Path) -> dict[str, str]:
    """What MLflow's basic-auth app reads: a config file (no password in it) and its variables."""
    config = folder / "mlflow-auth.ini"
    # Owner-only: a PostgreSQL URL may hold a password. configparser reads `%` as interpolation: doubled.
    config.touch(mode=0o600, exist_ok=True)
    config.chmod(0o600)
    config.write_text("[mlflow]\n"
                      "default_permission = READ\n"
                      f"database_uri = {auth_store_uri.replace('%', '%%')}\n"
                      "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
                      # MLflow checks the password's scrypt hash on every request (~0.1 s of CPU each), and a
                      # pipeline run makes hundreds; one worker process, so a password change is seen at once.
                      "auth_cache_ttl_seconds = 300\n")
    return {"MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_AUTH_ADMIN_USERNAME": credentials.mlflow_admin,
            "MLFLOW_AUTH_ADMIN_PASSWORD": credentials.mlflow_admin_password or "",
            # Signs the UI's CSRF tokens; a new one per start unless given (one server, one key).
            "MLFLOW_FLASK_SERVER_SECRET_KEY": credentials.flask_secret_key or secrets.token_hex(32)}
