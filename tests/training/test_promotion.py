import pytest

from training.config import Selection
from training.promotion import Candidate, choose, decide

ACC, LOSS = Selection("val_accuracy", "max"), Selection("val_loss", "min")


def candidate(run_id, score, params=100, fingerprint="f1"):
    return Candidate(run_id, "stage", run_id, score, params, f"models:/m-{run_id}", fingerprint)


def test_best_score_wins_in_either_direction():
    pool = [candidate("a", 0.90), candidate("b", 0.95), candidate("c", 0.93)]
    assert choose(pool, ACC, "f1").run_id == "b"
    assert choose(pool, LOSS, "f1").run_id == "a"


def test_a_tie_goes_to_the_cheaper_model():
    pool = [candidate("big", 0.95, params=5000), candidate("small", 0.95, params=300), candidate("x", 0.94, 10)]
    assert choose(pool, ACC, "f1").run_id == "small"


def test_only_candidates_of_the_same_split_compete():
    pool = [candidate("other-data", 0.99, fingerprint="f0"), candidate("a", 0.90)]
    assert choose(pool, ACC, "f1").run_id == "a"
    with pytest.raises(ValueError, match="no finished candidate was trained on split f9"):
        choose(pool, ACC, "f9")


def test_gate():
    assert decide(0.9, None, ACC) == ("champion", "first registered model")
    assert decide(0.95, 0.90, ACC)[0] == "champion"
    assert decide(0.90, 0.95, ACC)[0] == "challenger"
    assert decide(0.90, 0.90, ACC)[0] == "challenger"  # a tie does not move the champion
    assert decide(0.10, 0.20, LOSS)[0] == "champion"
    assert decide(0.30, 0.20, LOSS)[0] == "challenger"
