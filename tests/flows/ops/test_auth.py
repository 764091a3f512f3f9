"""Which credentials `make server` requires where, and what each server is given (flows/server_auth.py). The
servers themselves, with these credentials, are driven in tests/e2e/test_deployments.py."""

import configparser
import stat

import pytest

from flows.ops.auth import Credentials, auth_problem, is_loopback, mlflow_auth_env, without_secrets

FULL = {"MLFLOW_AUTH_ADMIN_PASSWORD": "a-long-admin-password", "PREFECT_API_AUTH_STRING": "team:prefect-secret"}


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                                ("::1", True), ("0.0.0.0", False), ("::", False),
                                                ("no-such-host.invalid", False)])
def test_only_loopback_addresses_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_loopback_needs_no_credentials_and_every_other_address_needs_both():
    assert auth_problem("127.0.0.1", Credentials.from_environment({})) is None
    assert auth_problem("0.0.0.0", Credentials.from_environment(FULL)) is None
    for missing in FULL:
        problem = auth_problem("0.0.0.0", Credentials.from_environment({k: v for k, v in FULL.items()
                                                                         if k != missing}))
        assert f"set {missing} first" in problem and "Nothing was started" in problem
    short = Credentials.from_environment({**FULL, "MLFLOW_AUTH_ADMIN_PASSWORD": "short"})
    assert "shorter than 12 characters" in auth_problem("127.0.0.1", short)


def test_prefects_server_setting_wins_over_the_clients_auth_string():
    both = Credentials.from_environment({**FULL, "PREFECT_SERVER_API_AUTH_STRING": "ops:server-string"})
    assert both.prefect_server_env()["PREFECT_SERVER_API_AUTH_STRING"] == "ops:server-string"
    assert Credentials.from_environment({}).prefect_server_env() == {}


def test_each_server_gets_its_own_secrets_only(tmp_path):
    environ = {**FULL, "MLFLOW_TRACKING_PASSWORD": "x", "MLFLOW_FLASK_SERVER_SECRET_KEY": "k", "PATH": "/bin"}
    assert without_secrets(environ) == {"PATH": "/bin"}
    credentials = Credentials.from_environment(FULL)
    env = mlflow_auth_env(credentials, "postgresql://auth:p%40ss@db:5432/auth", tmp_path)
    config = tmp_path / "mlflow-auth.ini"
    assert env["MLFLOW_AUTH_CONFIG_PATH"] == str(config)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # the database URL may hold a password
    assert FULL["MLFLOW_AUTH_ADMIN_PASSWORD"] not in config.read_text()
    parsed = configparser.ConfigParser()  # as MLflow reads it, `%` included
    parsed.read(config)
    assert parsed["mlflow"]["database_uri"] == "postgresql://auth:p%40ss@db:5432/auth"
    assert parsed["mlflow"]["default_permission"] == "READ"
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == FULL["MLFLOW_AUTH_ADMIN_PASSWORD"]
    assert len(env["MLFLOW_FLASK_SERVER_SECRET_KEY"]) == 64
