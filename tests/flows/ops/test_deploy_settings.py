"""The deploy-time settings of prefect.yaml (flows/deploy_settings.py): defaults, and refusals that say what to
set. The plain `prefect deploy` they serve is driven for real in tests/e2e/test_deployments.py."""

from pathlib import Path

import pytest

from flows.ops.deploy_settings import DeploySettingsError, team_settings

ROOT = Path(__file__).resolve().parents[3]


def test_the_working_directory_defaults_to_the_folder_deployed_from(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert team_settings("", "http://mlflow:5000", "") == {
        "directory": str(ROOT), "mlflow_tracking_uri": "http://mlflow:5000", "nightly_timezone": "UTC",
        "nightly_data": "digits", "nightly_target": None, "nightly_table": None, "nightly_query": None}
    assert team_settings(str(ROOT / "flows" / ".."), "http://mlflow:5000", "Europe/Berlin")["directory"] == str(ROOT)


@pytest.mark.parametrize(("directory", "uri", "zone", "message"), [
    ("", "http://mlflow:5000", "", "the current folder {tmp} is not a keras-mlops checkout"),
    ("{tmp}", "http://mlflow:5000", "", "KERAS_MLOPS_DIR={tmp} is not a keras-mlops checkout"),
    ("{root}", "", "", "MLFLOW_TRACKING_URI is not set"),
    ("{root}", "http://alice:secret@mlflow:5000", "", "MLFLOW_TRACKING_URI holds credentials"),
    ("{root}", "http://mlflow:5000", "Mars/Olympus", "NIGHTLY_TIMEZONE=Mars/Olympus is not a time zone"),
])
def test_what_cannot_be_defaulted_is_refused_naming_what_to_set(tmp_path, monkeypatch, directory, uri, zone,
                                                                   message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DeploySettingsError) as refused:
        team_settings(directory.format(tmp=tmp_path, root=ROOT), uri, zone)
    assert message.format(tmp=tmp_path) in str(refused.value)
    assert "secret" not in str(refused.value)


def test_the_nightly_deployment_trains_the_teams_data_or_says_it_trains_the_demo_set(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    settings = team_settings("", "http://mlflow:5000", "", "postgresql://etl@db.internal/warehouse", "churned",
                             "events")
    assert {k: v for k, v in settings.items() if k.startswith("nightly_") and k != "nightly_timezone"} == {
        "nightly_data": "postgresql://etl@db.internal/warehouse", "nightly_target": "churned",
        "nightly_table": "events", "nightly_query": None}
    assert capsys.readouterr().out == ""
    query = team_settings("", "http://mlflow:5000", "", "sqlite:///n.db", "y", "", "select * from events")
    assert query["nightly_query"] == "select * from events"
    assert team_settings("", "http://mlflow:5000", "")["nightly_data"] == "digits"
    assert "will train the bundled demo set (digits): export NIGHTLY_DATA" in capsys.readouterr().out


@pytest.mark.parametrize(("data", "target", "table", "message"), [
    ("postgresql://etl:hunter2@db.internal/warehouse", "y", "events", "holds a password"),
    ("postgresql://etl@db.internal/warehouse", "y", "", "name the rows with --table NAME or --query"),
    ("", "churned", "", "describe NIGHTLY_DATA, which is not set"),
    ("s3://bucket/events/", "y", "events", "--table and --query read a database"),
])
def test_nightly_data_that_cannot_run_is_refused_at_deploy_time(monkeypatch, data, target, table, message):
    monkeypatch.chdir(ROOT)
    with pytest.raises(DeploySettingsError) as refused:
        team_settings("", "http://mlflow:5000", "", data, target, table)
    assert message in str(refused.value) and "hunter2" not in str(refused.value)
