"""Which pipeline run may be resumed, and which one a run continues: the pure policy."""

import pytest

from training.config import ConfigError
from training.runtime.resume_policy import RecordedPipeline, choose_resume, why_not_resumable, why_not_same_config

VERSIONS = {"code.version": "abc", "libraries.hash": "123"}


def recorded(status="FAILED", experiment="1", **tags) -> RecordedPipeline:
    return RecordedPipeline(run_id="r1", experiment_id=experiment, status=status, tags={**VERSIONS, **tags})


@pytest.mark.parametrize(("run", "versions", "why"), [
    (recorded(experiment="2"), VERSIONS, "belongs to another experiment"),
    (recorded("FINISHED"), VERSIONS, "nothing to resume"),
    (recorded("RUNNING"), VERSIONS, "still RUNNING"),
    (recorded(), {**VERSIONS, "code.version": "def"}, "code.version abc -> def"),
    (recorded(), {**VERSIONS, "libraries.hash": "456"}, "libraries.hash 123 -> 456"),
])
def test_a_run_that_cannot_be_resumed_says_why(run, versions, why):
    assert why in why_not_resumable(run, "1", "exp", versions)


def test_a_failed_or_killed_run_of_the_same_code_may_be_resumed():
    for status in ("FAILED", "KILLED"):
        assert why_not_resumable(recorded(status), "1", "exp", VERSIONS) is None


def test_only_where_it_runs_may_differ_in_the_config():
    config = {"seed": 1, "tracking_uri": "a", "max_parallel": 1}
    assert why_not_same_config("r1", config, {**config, "tracking_uri": "b", "max_parallel": 2}) is None
    assert "seed: 1 -> 2" in why_not_same_config("r1", config, {**config, "seed": 2})
    assert "before recording its config" in why_not_same_config("r1", None, config)


def test_the_named_run_is_refused_with_the_reason_and_a_retry_falls_back_to_a_new_run():
    refusals = {"bad": "it finished"}
    assert choose_resume("good", None, refusals.get) == "good"
    with pytest.raises(ConfigError, match="it finished"):
        choose_resume("bad", None, refusals.get)
    assert choose_resume(None, "good", refusals.get) == "good"
    assert choose_resume(None, "bad", refusals.get) is None
    assert choose_resume(None, None, refusals.get) is None
