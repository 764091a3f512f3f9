import time

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.method.gate import CHALLENGER, CHAMPION
from training.tracking.registry import Registry


@pytest.fixture
def registry(tracking_uri):
    return Registry(MlflowClient(tracking_uri), "model-under-test")


def register(registry, score):
    return str(registry.register(f"file:///models/{score}", None, {"test_accuracy": score}, description="card").version)


def test_first_champion_then_challenger_then_a_better_champion(registry):
    v1 = register(registry, 0.90)
    registry.move_alias(CHAMPION, v1, "first registered model")
    v2 = register(registry, 0.85)
    registry.move_alias(CHALLENGER, v2, "does not beat the champion")
    assert str(registry.version_by_alias(CHAMPION).version) == v1
    assert str(registry.version_by_alias(CHALLENGER).version) == v2
    v3 = register(registry, 0.97)
    registry.move_alias(CHAMPION, v3, "beats the champion", {"test_accuracy": 0.97, "champion_score": 0.90})
    assert str(registry.version_by_alias(CHAMPION).version) == v3
    history = registry.history()
    assert [(m.alias, m.from_version, m.to_version) for m in history] == [
        (CHAMPION, None, v1), (CHALLENGER, None, v2), (CHAMPION, v1, v3)]
    assert history[-1].details == {"test_accuracy": 0.97, "champion_score": 0.90}
    assert registry.version(v2).tags == {"test_accuracy": "0.85"}


def test_rollback_goes_back_and_is_recorded(registry):
    v1 = register(registry, 0.9)
    registry.move_alias(CHAMPION, v1, "first registered model")
    v2 = register(registry, 0.95)
    registry.move_alias(CHAMPION, v2, "beats the champion")
    move = registry.rollback()
    assert (move.from_version, move.to_version, move.reason) == (v2, v1, "rollback")
    assert str(registry.version_by_alias(CHAMPION).version) == v1
    with pytest.raises(ValueError, match="replaced no earlier version"):
        registry.rollback()  # a second rollback walks further back (there is nothing), it does not toggle
    assert registry.rollback(to_version=v2).to_version == v2
    assert [m.reason for m in registry.history()] == ["first registered model", "beats the champion", "rollback",
                                                      f"rollback --to {v2}"]
    assert registry.rollback().to_version == v1  # an explicit move can be walked back


def test_rollback_errors_are_specific(registry):
    with pytest.raises(ValueError, match="has no champion"):
        registry.rollback()
    v1 = register(registry, 0.9)
    registry.move_alias(CHAMPION, v1, "first registered model")
    with pytest.raises(ValueError, match="replaced no earlier version"):
        registry.rollback()
    with pytest.raises(ValueError, match="already the champion"):
        registry.rollback(to_version=v1)
    with pytest.raises(MlflowException, match="not found"):
        registry.rollback(to_version="42")
    assert str(registry.version_by_alias(CHAMPION).version) == v1


def test_what_was_champion_at_a_given_time(registry):
    v1 = register(registry, 0.9)
    registry.move_alias(CHAMPION, v1, "first registered model")
    between = time.time()
    time.sleep(0.01)
    v2 = register(registry, 0.95)
    registry.move_alias(CHAMPION, v2, "beats the champion")
    assert registry.alias_at(CHAMPION, between) == v1
    assert registry.alias_at(CHAMPION, time.time()) == v2
    assert registry.alias_at(CHAMPION, between - 3600) is None


def test_an_unreachable_registry_is_not_mistaken_for_an_empty_one(tmp_path):
    registry = Registry(MlflowClient("http://127.0.0.1:9"), "anything")  # nothing listens on port 9
    import os

    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    try:
        with pytest.raises(MlflowException):
            registry.version_by_alias(CHAMPION)
    finally:
        os.environ.pop("MLFLOW_HTTP_REQUEST_MAX_RETRIES")


def test_a_failed_alias_move_marks_the_version(registry, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("alias store down")

    monkeypatch.setattr(registry, "move_alias", broken)
    with pytest.raises(RuntimeError):
        registry.promote("file:///models/x", None, {"test_accuracy": "0.9"}, "card", CHAMPION, "first", {})
    assert registry.version("1").tags["promotion.failed"] == "champion: alias store down"
    assert registry.version_by_alias(CHAMPION) is None
