import argparse
import subprocess
import sys
from pathlib import Path
from typing import Literal, get_args

import pytest
from mlflow import MlflowClient
from pydantic import BaseModel, Field, PositiveInt

from flows.__main__ import build_parser, config_from_args, main
from flows.cli_options import add_config_options, config_fields_from_args, flag_for
from training.config import PipelineConfig
from training.model.spec import SCHEDULE_VARIANTS


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, "-m", "flows", "run", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for flag in [*map(flag_for, PipelineConfig.model_fields), "--resume"]:
        assert f"{flag} " in out or f"{flag}\n" in out, flag
    # A field's description is its flag's help.
    assert [name for name, field in PipelineConfig.model_fields.items() if not field.description] == []


def test_console_script_is_installed():
    import shutil

    script = shutil.which("keras-mlops") or str(Path(sys.executable).parent / "keras-mlops")
    out = subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout
    assert all(command in out for command in ("run", "predict", "rollback", "history"))


def test_args_become_the_typed_config():
    args = build_parser().parse_args(["run", "--data", "wine", "--profile", "quick", "--seed", "3"])
    config = config_from_args(args)
    assert (config.data, config.profile, config.seed, config.target) == ("wine", "quick", 3, None)


def parse_run(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *flags])


def refused(parse, capsys) -> str:
    """What argparse says when it refuses the command line (it exits 2)."""
    with pytest.raises(SystemExit) as exit_:
        parse()
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_flags_not_given_leave_the_configs_defaults():
    args = parse_run()
    assert config_fields_from_args(args) == {}
    assert config_from_args(args) == PipelineConfig()


def test_choices_of_a_literal_field_come_from_the_config(capsys):
    tuners = get_args(PipelineConfig.model_fields["tuner"].annotation)
    assert config_from_args(parse_run("--tuner", tuners[-1])).tuner == tuners[-1]
    assert "invalid choice: 'bogus'" in refused(lambda: parse_run("--tuner", "bogus"), capsys)
    with pytest.raises(SystemExit):
        parse_run("--help")
    assert "--tuner {" + ",".join(tuners) + "}" in capsys.readouterr().out


def test_list_fields_take_one_or_more_values():
    config = config_from_args(parse_run("--capacity-units", "32", "256-128-64", "--dropout-rates", "0.2", "0.5",
                                        "--schedule-variants", "early-stopping"))
    assert config.capacity_units == [(32,), (256, 128, 64)]
    assert config.dropout_rates == [0.2, 0.5]
    assert config.schedule_variants == ["early-stopping"]
    assert config_from_args(parse_run("--schedule-variants", *SCHEDULE_VARIANTS)).schedule_variants == list(
        SCHEDULE_VARIANTS)


def test_bad_list_values_are_refused_by_the_parser(capsys):
    assert "'256-x' is not layer sizes" in refused(lambda: parse_run("--capacity-units", "256-x"), capsys)
    assert "invalid choice: 'nope'" in refused(lambda: parse_run("--schedule-variants", "nope"), capsys)


def test_switches_and_the_fields_without_a_flag_before():
    config = config_from_args(parse_run("--force", "--deterministic", "--tuning-max-epochs", "7", "--work-dir", "w"))
    assert (config.force, config.deterministic, config.tuning_max_epochs, config.work_dir) == (True, True, 7, "w")


def test_registry_commands_default_to_the_configs_model_name():
    for command in ("predict --data a.csv --out b.csv", "rollback", "history"):
        args = build_parser().parse_args(command.split())
        assert (args.model_name, args.tracking_uri) == (PipelineConfig().model_name, None)


class Paint(BaseModel):
    colour: Literal["red", "blue"] = Field("red", description="Which paint.")
    coats: PositiveInt = Field(2, description="How many coats.")
    glossy: bool = Field(False, description="Glossy finish.")
    primed: bool = Field(True, description="Prime first.")
    thinning: float | None = Field(None, description="Thinner per litre; default per paint.")


def test_a_models_fields_become_options(capsys):
    parser = argparse.ArgumentParser()
    add_config_options(parser, Paint)
    given = config_fields_from_args(
        parser.parse_args(["--colour", "blue", "--glossy", "--no-primed", "--thinning", "0.1"]), Paint)
    assert given == {"colour": "blue", "glossy": True, "primed": False, "thinning": 0.1}
    assert Paint(**config_fields_from_args(parser.parse_args([]), Paint)) == Paint()
    assert "invalid int value: 'x'" in refused(lambda: parser.parse_args(["--coats", "x"]), capsys)
    help_ = " ".join(parser.format_help().split())
    assert "--colour {red,blue} Which paint. (default: red)" in help_
    assert "--coats COATS How many coats. (default: 2)" in help_
    assert "--glossy Glossy finish." in help_
    assert "--thinning THINNING Thinner per litre; default per paint." in help_


def test_a_field_without_a_command_line_form_is_an_error_not_a_missing_flag():
    class Odd(BaseModel):
        weights: dict[str, float] = {}

    with pytest.raises(TypeError, match="'weights'"):
        add_config_options(argparse.ArgumentParser(), Odd)


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


def test_version_names_the_package_and_its_libraries():
    from importlib import metadata

    done = subprocess.run([sys.executable, "-m", "flows", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout == (f"keras-mlops {metadata.version('keras-mlops')} (tensorflow {metadata.version('tensorflow')}"
                           f", keras {metadata.version('keras')}, keras-tuner {metadata.version('keras-tuner')}, "
                           f"mlflow {metadata.version('mlflow')}, prefect {metadata.version('prefect')})\n")
