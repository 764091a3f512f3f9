"""Nightly retraining is idempotent: same data, code and config as the last finished run -> nothing trained;
`force` or any other config trains again."""

import pytest

import flows.pipeline
from flows.pipeline import training_pipeline

pytestmark = pytest.mark.e2e


class TrainingStarted(Exception):
    """Where the pipeline would start its first stage: the decision was made, the training is not needed."""


@pytest.fixture
def stop_where_training_starts(monkeypatch):
    def refuse(config):
        raise TrainingStarted(config)

    monkeypatch.setattr(flows.pipeline, "candidate_cluster", refuse)


def test_an_unchanged_night_trains_nothing(regression_pipeline, stop_where_training_starts):
    first, client = regression_pipeline, regression_pipeline.client
    experiment_id = client.get_experiment_by_name(first.options["experiment"]).experiment_id
    candidates = len(client.search_runs([experiment_id], "tags.kind = 'candidate'"))
    versions = len(client.search_model_versions(f"name = '{first.model_name}'"))

    second = training_pipeline(**first.options)  # would raise TrainingStarted if it trained anything
    assert second.unchanged_since == first.result.pipeline_run_id
    tags = client.get_run(second.pipeline_run_id).data.tags
    assert (tags["outcome"], tags["outcome.same_as"]) == ("no change", first.result.pipeline_run_id)
    assert client.get_run(second.pipeline_run_id).info.status == "FINISHED"
    assert len(client.search_runs([experiment_id], "tags.kind = 'candidate'")) == candidates
    assert len(client.search_model_versions(f"name = '{first.model_name}'")) == versions


@pytest.mark.parametrize("change", [{"force": True}, {"seed": 7}, {"dropout_rates": [0.3]}],
                         ids=["force", "another seed", "another grid"])
def test_force_or_another_config_trains_again(regression_pipeline, stop_where_training_starts, change):
    with pytest.raises(TrainingStarted):
        training_pipeline(**{**regression_pipeline.options, **change})
