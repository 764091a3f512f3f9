import pytest

from training.config import Selection
from training.method.gate import Candidate, choose, decide, evaluation_tags, headline_metrics

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


def test_the_adaptive_pipelines_selected_run_is_registered_even_when_another_scored_higher_within_noise():
    pool = [candidate("selected", 0.950), candidate("lucky", 0.955), candidate("other-data", 0.99, fingerprint="f0")]
    assert choose(pool, ACC, "f1", "selected", "adaptive").run_id == "selected"
    assert choose(pool, ACC, "f1", "selected", "grid").run_id == "lucky"  # the grid strategy: the best score
    assert choose(pool, ACC, "f1", None, "adaptive").run_id == "lucky"  # a run from before the strategy existed
    assert choose(pool, ACC, "f1", "other-data", "adaptive").run_id == "lucky"  # never a model of other data


def test_gate():
    """The comparison with the champion is MLflow's gate (tests/training/tracking/test_evaluation.py); the
    decision follows its verdict and says it."""
    assert decide(0.9, None, ACC) == ("champion", "first registered model")
    assert decide(0.95, 0.90, ACC) == ("champion", "passes the gate against the champion on the test split "
                                                   "(0.9500 vs 0.9000)")
    alias, reason = decide(0.90, 0.95, ACC, gate_failure="Metric test_accuracy_score minimum absolute change ...")
    assert alias == "challenger"
    assert reason.startswith("does not pass the gate against the champion on the test split (0.9000 vs 0.9500)")
    assert reason.endswith("Metric test_accuracy_score minimum absolute change ...")


def test_a_champion_that_cannot_score_the_data_is_replaced_only_when_the_schema_change_was_accepted():
    alias, reason = decide(0.5, None, ACC, champion_unscorable="version 3: columns ['x'] are missing")
    assert alias == "challenger" and "cannot score this data" in reason and "--accept-schema-change" in reason
    alias, reason = decide(0.5, None, ACC, champion_unscorable="version 3: columns ['x'] are missing",
                           schema_accepted="column missing: column 'x'")
    assert alias == "champion" and reason.startswith("schema change accepted (column missing: column 'x')")
    assert "version 3" in reason


def test_a_model_of_drifted_data_is_held_as_challenger_with_the_columns_and_what_it_would_have_been():
    alias, reason = decide(0.95, 0.90, ACC, held="proline (PSI 5.21)")
    assert alias == "challenger"
    assert reason == ("held for review: tonight's data drifted (proline (PSI 5.21)); but for the drift, champion: "
                      "passes the gate against the champion on the test split (0.9500 vs 0.9000)")
    # held or not, a model that loses to the champion or to a constant says so first
    assert decide(0.85, 0.90, ACC, gate_failure="worse", held="x")[1].startswith("does not pass the gate")
    assert decide(0.30, 0.90, ACC, dummy_score=0.30, held="x")[1].startswith("does not beat the dummy")


def test_a_network_no_better_than_the_dummy_baseline_is_never_champion():
    alias, reason = decide(0.30, None, ACC, dummy_score=0.30)  # first model, but a constant does as well
    assert alias == "challenger" and "does not beat the dummy baseline" in reason and "never champion" in reason
    assert decide(0.90, 0.80, ACC, champion_unscorable="schema", dummy_score=0.95)[0] == "challenger"
    assert decide(0.31, None, ACC, dummy_score=0.30)[0] == "champion"
    assert decide(900.0, None, LOSS, dummy_score=1000.0)[0] == "champion"


def test_baselines_the_network_does_not_beat_are_flagged_and_recorded_on_the_version():
    from training.method.gate import baseline_flags, result_from_version, version_tags

    baselines = {"dummy": 0.10, "linear": 0.96}
    flags = baseline_flags(0.94, baselines, ACC)
    assert flags == ["does not beat the linear baseline on the test split (0.9400 vs 0.9600)"]
    tags = {k: str(v) for k, v in version_tags(candidate("a", 0.95), ACC, 0.94, "p1", {"diagnosis.regime": "good"},
                                               baselines).items()}
    assert (tags["baseline.dummy.test_accuracy"], tags["baseline.linear.test_accuracy"]) == ("0.1", "0.96")
    assert (tags["baseline.dummy.beaten"], tags["baseline.linear.beaten"]) == ("true", "false")
    # What an earlier attempt registered is read back with its baselines and flags.
    found = result_from_version("m", "3", tags, ["challenger"])
    assert found.baselines == baselines and found.flags == flags and found.test_score == 0.94


def test_the_version_links_its_evaluation_and_shows_the_headline_metrics():
    metrics = {"test_accuracy_score": 0.9, "test_example_count": 40, "test_roc_auc": 0.97, "test_f1_score": 0.88}
    assert headline_metrics(metrics) == {"test_accuracy_score": 0.9, "test_f1_score": 0.88, "test_roc_auc": 0.97}
    assert evaluation_tags(metrics, "run1") == {
        "evaluation.run_id": "run1", "evaluation.test_accuracy_score": 0.9, "evaluation.test_f1_score": 0.88,
        "evaluation.test_roc_auc": 0.97}
