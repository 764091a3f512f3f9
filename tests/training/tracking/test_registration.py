"""The MLflow steps of a promotion, each alone: evaluating the winner through its served artifact, comparing it with
the champion, registering it. The whole promotion runs in tests/flows/test_promotion.py."""

import numpy as np
import pytest
from mlflow.exceptions import MlflowException

from training.config import Gate, PipelineConfig, Selection
from training.data.split import make_split
from training.data.tables import load_dataset
from training.method.baselines import score_baselines
from training.method.gate import CHAMPION, Candidate, decide
from training.model.spec import ModelSpec
from training.tracking.candidates import train_and_record
from training.tracking.registration import (
    ChampionComparison,
    compare_with_champion,
    evaluate_winner,
    model_card_of,
    register_winner,
    why_unscorable,
)
from training.tracking.registry import Registry
from training.tracking.runs import Tracker

ACCURACY = Selection("val_accuracy", "max")


def candidate_of(tracker: Tracker, data: str, name: str = "base") -> tuple[Candidate, object]:
    """A finished candidate run (a small network, 3 epochs) on a bundled set, as a stage leaves it."""
    split = make_split(load_dataset(data), PipelineConfig().fractions, 0)
    with tracker.run("stage", tags={"stage": "baseline"}) as stage_run:
        recorded = train_and_record(tracker, stage_run, name, {"stage": "baseline", "variant": name,
                                                               "kind": "candidate"},
                                    ModelSpec(units=(16,), epochs=3, batch_size=16), split, ACCURACY, seed=0)
    return Candidate(recorded.run_id, "baseline", name, recorded.result.score, recorded.result.param_count,
                     recorded.model_uri, split.fingerprint), split


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tracker = Tracker(f"sqlite:///{tmp_path_factory.mktemp('registration')}/mlflow.db", "registration-test")
    return tracker, *candidate_of(tracker, "iris")


@pytest.mark.slow
def test_the_winner_is_scored_through_the_very_artifact_that_is_registered(store):
    tracker, winner, split = store
    with tracker.run("promotion") as run_id:
        scored = evaluate_winner(tracker, run_id, winner, split, ACCURACY)
    from training.tracking.models import load_serving_model

    predicted = load_serving_model(scored.serving_uri).predict(split.test_frame.drop(columns=["target"]))
    accuracy = float(np.mean(predicted["prediction"].astype(str) == split.test_truth.astype(str)))
    assert scored.test_score == pytest.approx(accuracy)
    assert tracker.get_run(run_id).data.metrics["test_accuracy_score"] == pytest.approx(accuracy)
    assert scored.spec_params["units"] == "16" and scored.candidate_tags["diagnosis.regime"]


@pytest.mark.slow
def test_no_champion_then_a_registered_one_that_the_same_model_does_not_beat(store, tmp_path):
    tracker, winner, split = store
    registry = Registry(tracker.client, "registration-gate")
    with tracker.run("promotion") as run_id:
        scored = evaluate_winner(tracker, run_id, winner, split, ACCURACY)
        assert compare_with_champion(tracker, run_id, registry, scored, split, ACCURACY, Gate()) == ChampionComparison()
        baselines = score_baselines(split, ACCURACY, 0)
        alias, reason = decide(scored.test_score, None, ACCURACY, dummy_score=baselines.scores["dummy"])
        card = model_card_of(registry.name, winner, scored, baselines, ChampionComparison(), ACCURACY,
                             f"{alias} ({reason})", {"fingerprint": split.fingerprint}, "pipeline-1", [])
        version = register_winner(tracker, run_id, registry, winner, scored, ACCURACY, "pipeline-1", baselines,
                                  alias, reason, card, None, split)
    assert (version, alias) == ("1", CHAMPION)
    registered = registry.version(version)
    assert registered.tags["data.fingerprint"] == split.fingerprint
    # The data that made it: the content digest of every row read, and where they came from.
    assert (registered.tags["data.digest"], registered.tags["data.source"]) == (split.data_digest, split.source)
    assert len(split.data_digest) == 64 and split.source == "sklearn.datasets.load_iris"
    assert registered.tags["pipeline.run_id"] == "pipeline-1"
    assert registered.description == card.markdown() and "There was no champion before it." in card.markdown()
    assert [(m.alias, m.to_version) for m in registry.history()] == [(CHAMPION, "1")]
    # The same model again: MLflow evaluates the champion in a child run, and its gate says equal is not better.
    with tracker.run("promotion") as run_id:
        again = compare_with_champion(tracker, run_id, registry, scored, split, ACCURACY, Gate())
    assert (again.version, again.score) == ("1", pytest.approx(scored.test_score))
    assert "minimum absolute change check failed" in again.gate_failure
    (child,) = tracker.child_runs(run_id)
    assert child.data.tags["champion.version"] == "1" and child.info.status == "FINISHED"


@pytest.mark.slow
def test_a_champion_of_other_data_cannot_score_todays_rows_and_says_why(store):
    tracker, winner, split = store
    registry = Registry(tracker.client, "registration-other-data")
    wine, wine_split = candidate_of(tracker, "wine", "wine")
    with tracker.run("promotion") as run_id:
        scored = evaluate_winner(tracker, run_id, wine, wine_split, ACCURACY)
        baselines = score_baselines(wine_split, ACCURACY, 0)
        card = model_card_of(registry.name, wine, scored, baselines, ChampionComparison(), ACCURACY, "champion",
                             {}, "pipeline-0", [])
        register_winner(tracker, run_id, registry, wine, scored, ACCURACY, "pipeline-0", baselines, CHAMPION,
                        "first registered model", card, None, wine_split)
    with tracker.run("promotion") as run_id:
        scored = evaluate_winner(tracker, run_id, winner, split, ACCURACY)
        compared = compare_with_champion(tracker, run_id, registry, scored, split, ACCURACY, Gate())
    assert compared.version == "1" and compared.score is None and compared.gate_failure is None
    assert compared.unscorable.startswith("version 1: ") and "alcohol" in compared.unscorable


def test_a_schema_error_is_reported_without_the_data_it_quotes():
    error = MlflowException("Failed to enforce schema of data '   image\n0  iVBORw0KGgo...\n' with schema "
                            "'['pixel_0_0': double]'. Error: Model is missing inputs ['pixel_0_0'].")
    assert why_unscorable(error) == "Model is missing inputs ['pixel_0_0']."
    assert why_unscorable(ValueError("its predictions lack ['proba_3']")) == "its predictions lack ['proba_3']"
