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
