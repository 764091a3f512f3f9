import pytest
from pydantic import ValidationError

from training.config import ConfigError, PipelineConfig, Selection, redact_uri


def test_defaults_follow_the_profile():
    config = PipelineConfig()
    assert config.fractions == (0.64, 0.16, 0.20)
    assert (config.resolved_epochs, config.resolved_batch_size) == (30, 32)
    assert PipelineConfig(profile="quick").resolved_epochs == 3
    assert PipelineConfig(profile="quick", epochs=7).resolved_epochs == 7


def test_selection_defaults_per_task():
    config = PipelineConfig()
    assert config.selection("classification") == Selection("val_accuracy", "max")
    assert config.selection("regression") == Selection("val_loss", "min")
    assert PipelineConfig(metric="val_mae").selection("regression") == Selection("val_mae", "min")


def test_metric_must_exist_for_the_task():
    with pytest.raises(ConfigError, match="val_mae.*classification.*val_loss"):
        PipelineConfig(metric="val_mae").selection("classification")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"train_fraction": 0.5}, "sum to 1"),
        ({"val_fraction": 0}, "greater than 0"),
        ({"test_fraction": -0.2}, "greater than 0"),
        ({"epochs": 0}, "greater than 0"),
        ({"batch_size": -1}, "greater than 0"),
        ({"profile": "huge"}, "quick"),
        ({"task": "clustering"}, "classification"),
        ({"metric": "accuracy"}, "validation metric"),
        ({"direction": "up"}, "max"),
        ({"unknown": 1}, "Extra inputs"),
        ({"task_runner": "ray"}, "threads"),
        ({"task_runner": "dask", "dask_address": "localhost:8786"}, "dask_address"),
        ({"dask_address": "tcp://127.0.0.1:8786"}, "task_runner='dask'"),
        ({"dask_workers": 0}, "greater than 0"),
        ({"tuner_workers": -1}, "greater than or equal to 0"),
        ({"l2_factors": [0.0]}, "l2_factors must be factors in \\(0, 1\\)"),
        ({"min_improvement": -0.1}, "greater than or equal to 0"),
    ],
)
def test_bad_values_are_rejected_with_the_field_named(fields, message):
    with pytest.raises(ValidationError, match=message):
        PipelineConfig(**fields)


def test_better_respects_direction_and_nan():
    assert Selection("val_accuracy", "max").better(0.9, 0.8)
    assert Selection("val_loss", "min").better(0.1, 0.2)
    assert not Selection("val_loss", "min").better(float("nan"), 0.2)
    assert Selection("val_loss", "min").better(0.2, float("nan"))

def test_a_password_in_the_tracking_uri_is_not_recorded():
    config = PipelineConfig(tracking_uri="https://ml:s3cr3t@mlflow.example.com:8443/path")
    assert config.recorded()["tracking_uri"] == "https://ml:***@mlflow.example.com:8443/path"
    assert "s3cr3t" not in str(config.recorded(mode="json"))
    assert redact_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert redact_uri("sqlite:///mlruns/mlflow.db") == "sqlite:///mlruns/mlflow.db"



def test_where_candidates_train_is_not_another_config_for_a_nightly_run():
    from training.runtime.versioning import config_hash

    base = PipelineConfig().recorded(mode="json")
    on_dask = PipelineConfig(task_runner="dask", dask_address="tcp://10.0.0.5:8786", max_parallel=2).recorded("json")
    assert config_hash(base) == config_hash(on_dask)  # same data, code and config: "no change"
    # A distributed search may draw other trials than one in a single process: that is another config.
    assert config_hash(base) != config_hash(PipelineConfig(tuner_workers=2).recorded(mode="json"))
    assert config_hash(base) != config_hash(PipelineConfig(seed=7).recorded(mode="json"))
