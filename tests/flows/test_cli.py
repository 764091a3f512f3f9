import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.__main__ import build_parser, config_from_args, main


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, "-m", "flows", "run", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for flag in ("--data", "--target", "--task", "--profile", "--tracking-uri", "--experiment", "--model-name",
                 "--seed", "--epochs", "--metric"):
        assert flag in out


def test_console_script_is_installed():
    import shutil

    script = shutil.which("keras-mlops") or str(Path(sys.executable).parent / "keras-mlops")
    out = subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout
    assert all(command in out for command in ("run", "predict", "rollback", "history"))


def test_args_become_the_typed_config():
    args = build_parser().parse_args(["run", "--data", "wine", "--profile", "quick", "--seed", "3"])
    config = config_from_args(args)
    assert (config.data, config.profile, config.seed, config.target) == ("wine", "quick", 3, None)


def test_invalid_configuration_exits_2_and_names_the_field(capsys):
    assert main(["run", "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err


@pytest.mark.e2e
def test_missing_file_fails_cleanly(tracking_uri, tmp_path):
    # The real command in its own process (with its own temporary Prefect API), as a user runs it.
    missing = tmp_path / "missing.csv"
    done = subprocess.run(
        [sys.executable, "-m", "flows", "run", "--data", str(missing), "--target", "y", "--tracking-uri", tracking_uri,
         "--experiment", "cli-test"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"error: data file '{missing}' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    # Refused before the pipeline's first run: no experiment, no run, nothing left RUNNING.
    assert MlflowClient(tracking_uri).get_experiment_by_name("cli-test") is None


def test_rollback_and_history_commands(tracking_uri, capsys, monkeypatch):
    from types import SimpleNamespace

    import flows.promotion
    from training.tracking.registry import Registry

    # As a user runs it, without a Prefect server (another test may have started one in this process).
    monkeypatch.setattr(flows.promotion, "get_current_settings", lambda: SimpleNamespace(api=SimpleNamespace(url=None)))

    registry = Registry(MlflowClient(tracking_uri), "cli-model")
    for version, (alias, reason) in enumerate([("champion", "first registered model"),
                                               ("challenger", "does not beat the champion")], start=1):
        registry.register(f"file:///models/{version}", None, {"test_accuracy": "0.9"}, description="card")
        registry.move_alias(alias, str(version), reason)
    common = ["--model-name", "cli-model", "--tracking-uri", tracking_uri]

    assert main(["rollback", "--to", "2", *common]) == 0
    assert str(registry.version_by_alias("champion").version) == "2"
    capsys.readouterr()
    assert main(["rollback", *common]) == 0
    assert "cli-model: " in (out := capsys.readouterr().out) and "champion: 2 -> 1  (rollback)" in out
    assert str(registry.version_by_alias("champion").version) == "1"

    assert main(["history", "--at", "2000-01-01T00:00", *common]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("  ")[1] for line in lines[:-1]] == [
        "champion: - -> 1", "challenger: - -> 2", "champion: 1 -> 2", "champion: 2 -> 1"]
    assert lines[-1] == "champion at 2000-01-01T00:00: version (none)"


def test_rollback_without_a_champion_is_one_error_line(tracking_uri, capsys):
    assert main(["rollback", "--model-name", "nothing-here", "--tracking-uri", tracking_uri]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "has no champion" in err and "Traceback" not in err
