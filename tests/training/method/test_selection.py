import math

import pytest

from training.config import Selection
from training.method.diagnosis import Diagnosis
from training.method.selection import (
    CandidateResult,
    StageResult,
    comparison_table,
    select_winner,
    stage_result_from_dict,
    stage_result_to_dict,
    verdict,
)
from training.model.spec import ModelSpec

ACC, LOSS = Selection("val_accuracy", "max"), Selection("val_loss", "min")
FIT = Diagnosis("good fit", 3, 0.9, 0.05, False, "keep it")


def candidate(name, score, params=100, units=(8,)):
    return CandidateResult(name=name, spec=ModelSpec(units=units, epochs=4), run_id=f"run-{name}",
                           model_uri=f"models:/m-{name}", score=score, val_scores={"val_accuracy": score},
                           diagnosis=FIT, fit_seconds=1.234, param_count=params, epochs_run=4)


def stage(candidates, winner, reference="base"):
    return StageResult("capacity", "stage-run", "val_accuracy", "max", candidates, winner, reference, 9.0)


def test_the_best_score_wins_in_the_metrics_direction():
    pool = [candidate("base", 0.90), candidate("wide", 0.95), candidate("narrow", 0.93)]
    assert select_winner(pool, ACC).name == "wide"
    assert select_winner(pool, LOSS).name == "base"


def test_a_tie_goes_to_the_smaller_model_then_to_the_earlier_candidate():
    pool = [candidate("base", 0.95, params=900), candidate("small", 0.95, params=300),
            candidate("also-small", 0.95, params=300)]
    assert select_winner(pool, ACC).name == "small"


def test_a_nan_score_never_wins():
    pool = [candidate("diverged", math.nan), candidate("base", 0.5)]
    for order in (pool, list(reversed(pool))):
        assert select_winner(order, ACC).name == "base"
        assert select_winner(order, LOSS).name == "base"


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="at least one candidate"):
        select_winner([], ACC)


def test_comparison_table_is_best_first_and_marks_the_winner():
    pool = [candidate("base", 0.90), candidate("wide", 0.95), candidate("narrow", 0.93)]
    table = comparison_table(pool, ACC, "wide")
    assert table["variant"].tolist() == ["wide", "narrow", "base"]
    assert table["winner"].tolist() == ["yes", "", ""]
    assert list(table.columns) == ["variant", "winner", "val_accuracy", "best_epoch", "epochs", "regime", "params",
                                   "fit_seconds", "spec", "run_id"]
    assert table.iloc[0]["fit_seconds"] == 1.23 and table.iloc[0]["run_id"] == "run-wide"
    assert comparison_table(pool, LOSS, "base")["variant"].tolist() == ["base", "narrow", "wide"]


def test_verdict_says_by_how_much_the_winner_beat_the_incoming_base():
    base, wide = candidate("base", 0.90), candidate("wide", 0.95)
    assert verdict(stage([base, wide], wide)) == (
        "wide wins with val_accuracy 0.9500, +0.0500 over the incoming base (0.9000); keep it")
    assert verdict(stage([base, wide], base)) == (
        "base wins with val_accuracy 0.9000 (the incoming base stayed best); keep it")
    assert "(best of the candidates)" in verdict(stage([wide], wide, reference=None))


def test_a_stage_result_survives_its_json_round_trip():
    base, wide = candidate("base", 0.90), candidate("wide", 0.95, units=(64, 32))
    result = stage([base, wide], wide)
    again = stage_result_from_dict(stage_result_to_dict(result))
    assert again.winner.name == "wide" and again.winner.spec == wide.spec
    assert again.reference_result.name == "base"
    assert [(c.name, c.score, c.diagnosis, c.param_count) for c in again.candidates] == [
        (c.name, c.score, c.diagnosis, c.param_count) for c in result.candidates]
    assert again.candidates[0].history == {}  # the curves stay in MLflow
