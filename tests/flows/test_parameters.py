"""One declaration of the pipeline's settings (training.config.PipelineConfig): the flow's signature, the parameter
schema `prefect deploy` stores for every deployment, and the command line all come from it, field by field."""

import inspect
from typing import get_args, get_origin

import pytest
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema

from flows.__main__ import build_parser, config_from_args
from flows.cli_options import PRESENTATION_KEYS, flag_for
from flows.parameters import config_fields, field_annotation
from flows.pipeline import training_pipeline
from flows.promotion import promotion_stage
from training.config import PipelineConfig

FIELDS = PipelineConfig.model_fields

# One value per field as a person writes it on the command line, and as a deployment parameter (JSON): every
# field is here, so a new field cannot reach one of the three and miss another.
VALUES = {
    "data": (["wine"], "wine"), "target": (["label"], "label"), "model": (["cnn"], "cnn"),
    "table": (["events"], "events"), "query": (["select 1"], "select 1"), "split_by": (["day"], "day"),
    "image_size": (["32", "24"], [32, 24]), "image_memory_mb": (["512"], 512), "task": (["regression"], "regression"),
    "train_fraction": (["0.7"], 0.7), "val_fraction": (["0.1"], 0.1), "test_fraction": (["0.2"], 0.2),
    "seed": (["7"], 7), "profile": (["quick"], "quick"), "strategy": (["grid"], "grid"), "epochs": (["5"], 5),
    "batch_size": (["16"], 16), "metric": (["val_loss"], "val_loss"), "direction": (["min"], "min"),
    "experiment": (["nightly"], "nightly"), "model_name": (["digits-model"], "digits-model"),
    "tracking_uri": (["http://127.0.0.1:5000"], "http://127.0.0.1:5000"),
    "capacity_units": (["32", "256-128-64"], [[32], [256, 128, 64]]), "dropout_rates": (["0.2", "0.5"], [0.2, 0.5]),
    "l2_factors": (["0.001"], [0.001]), "augment": (["noise"], ["noise"]),
    "augment_strengths": (["0.1", "0.2"], [0.1, 0.2]), "lr_sweep": (["on"], "on"),
    "schedule_variants": (["early-stopping"], ["early-stopping"]),
    "max_parallel": (["2"], 2), "task_runner": (["dask"], "dask"),
    "dask_address": (["tcp://10.0.0.5:8786"], "tcp://10.0.0.5:8786"), "dask_workers": (["3"], 3),
    "tuner_workers": (["2"], 2), "tuner": (["random"], "random"), "max_trials": (["4"], 4),
    "tuning_max_epochs": (["9"], 9), "mixed_precision": (["off"], "off"), "deterministic": ([], True),
    "force": ([], True), "min_improvement": (["0.01"], 0.01), "min_relative_improvement": (["0.02"], 0.02),
    "work_dir": (["/tmp/work"], "/tmp/work"), "on_drift": (["fail"], "fail"), "drift_warn": (["0.05"], 0.05),
    "drift_threshold": (["0.3"], 0.3), "min_rows_share": (["0.8"], 0.8), "max_null_increase": (["0.2"], 0.2),
    "max_unseen_share": (["0.1"], 0.1), "max_unreadable_share": (["0"], 0.0), "accept_schema_change": ([], True),
}
# Fields that a value alone cannot set: each needs another field set too (the config's own rules).
NEEDS = {"dask_address": {"task_runner": "dask"}, "train_fraction": {"val_fraction": 0.1},
         "table": {"data": "sqlite:///warehouse.db"}, "query": {"data": "sqlite:///warehouse.db"},
         "val_fraction": {"train_fraction": 0.7}, "test_fraction": {}}


def test_every_field_has_a_value_here():
    assert set(VALUES) == set(FIELDS)


def test_the_pipeline_flows_parameters_are_the_config_fields_with_their_types_and_defaults():
    parameters = inspect.signature(training_pipeline).parameters
    assert list(parameters) == [*FIELDS, "resume"]
    for name, field in FIELDS.items():
        assert parameters[name].default == field.default, name
        assert repr(parameters[name].annotation) == repr(field_annotation(field)), name  # FieldInfo: no __eq__
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_the_deployment_schema_is_the_configs_json_schema_field_by_field():
    """What `prefect deploy` stores (parameter_schema of the flow), against pydantic's schema of the config:
    the same types, constraints, choices and defaults; the description of each field too."""
    stored = parameter_schema(training_pipeline)
    declared = PipelineConfig.model_json_schema()
    assert list(stored.properties) == [*FIELDS, "resume"]
    ignored = {"title", "description", "position", *PRESENTATION_KEYS}
    for name, field in FIELDS.items():
        mine = {k: v for k, v in stored.properties[name].items() if k not in ignored}
        theirs = {k: v for k, v in declared["properties"][name].items() if k not in ignored}
        assert mine == theirs, name
        assert stored.properties[name]["description"] == " ".join(field.description.split()), name
    assert stored.properties["metric"]["anyOf"][0]["pattern"] == r"^val_\w+$"
    assert stored.properties["epochs"]["anyOf"][0]["exclusiveMinimum"] == 0


@pytest.mark.parametrize("name", list(VALUES))
def test_a_flag_and_a_deployment_parameter_set_the_same_field_to_the_same_value(name):
    flags, parameter = VALUES[name]
    others = NEEDS.get(name, {})
    other_flags = [word for key, value in others.items() for word in (flag_for(key), str(value))]
    from_cli = config_from_args(build_parser().parse_args(["run", *other_flags, flag_for(name), *flags]))
    # As `prefect deployment run ... --param NAME=VALUE` hands it to the flow: validated against its signature.
    validated = training_pipeline.validate_parameters({**others, name: parameter})
    from_deployment = PipelineConfig(**{k: v for k, v in validated.items() if k != "resume"})
    from_python = PipelineConfig(**others, **{name: parameter})
    assert getattr(from_cli, name) == getattr(from_deployment, name) == getattr(from_python, name), name
    assert from_cli == from_deployment == from_python


def test_a_parameter_the_config_refuses_is_refused_before_the_flow_runs():
    assert training_pipeline.validate_parameters({"profile": "quick"})["profile"] == "quick"
    for bad in ({"epochs": 0}, {"metric": "accuracy"}, {"profile": "huge"}, {"train_fraction": 1.5}):
        with pytest.raises(ParameterTypeError):
            training_pipeline.validate_parameters(bad)


def test_the_promotion_flow_takes_its_settings_as_the_config_declares_them():
    parameters = inspect.signature(promotion_stage).parameters
    assert list(parameters) == ["pipeline_run_id", "experiment", "tracking_uri", "model_name", "min_improvement",
                                "min_relative_improvement"]
    assert parameters["experiment"].default == FIELDS["experiment"].default
    # The overrides default to "as the pipeline run recorded", with the config's constraints when given.
    assert [parameters[n].default for n in ("model_name", "min_improvement", "min_relative_improvement")] == [None] * 3
    annotation = parameters["min_relative_improvement"].annotation
    assert type(None) in get_args(get_args(annotation)[0]) and get_origin(annotation) is not None
    with pytest.raises(ParameterTypeError):
        promotion_stage.validate_parameters({"min_relative_improvement": 2.0})


def test_a_name_the_function_lacks_is_an_error_at_import():
    with pytest.raises(TypeError, match=r"has no parameter \['seed'\]"):
        config_fields(("seed",))(lambda experiment: None)
