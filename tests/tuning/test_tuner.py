"""Searches in tmp_path against a temporary MLflow store: trial runs, curves, winner-first, resume."""

import numpy as np
import pandas as pd
import pytest

from training.config import Selection
from training.data.split import make_split
from training.data.tables import validate_table
from training.model.spec import ModelSpec
from training.tracking import candidates as candidates_module
from training.tracking.runs import Tracker
from tuning.tuner import Budget, run_search

ACC = Selection("val_accuracy", "max")
BASE = ModelSpec(units=(16,), epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6))
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    frame["y"] = (x[:, 0] - x[:, 1] > 0).astype(int)
    return make_split(validate_table(frame, "y", "classification", "inline", "inline"), (0.64, 0.16, 0.2), 0)


def search(tracker, stage_run_id, split, directory, kind="random", trials=3):
    return run_search(kind, BASE, split, ACC, Budget(max_epochs=3, max_trials=trials), directory, tracker,
                      stage_run_id, seed=1)


def trial_runs(tracker, stage_run_id):
    return [r for r in tracker.child_runs(stage_run_id) if r.data.tags.get("kind") == "trial"]


@pytest.mark.slow
def test_each_trial_is_a_child_run_with_its_curves(tracking_uri, tmp_path, split):
    tracker = Tracker(tracking_uri, "tuning-test")
    with tracker.run("tuning", tags={"stage": "tuning"}) as stage_run_id:
        summary = search(tracker, stage_run_id, split, tmp_path / "search")
    runs = trial_runs(tracker, stage_run_id)
    assert summary.trials == 3 and len(runs) == 3
    assert sorted(r.data.tags["tuning.trial_id"] for r in runs) == ["0", "1", "2"]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.tags["stage"] == "tuning" and run.data.tags["diagnosis.regime"]
        for key in ("loss", "val_loss", "val_accuracy", "learning_rate"):
            assert [m.step for m in tracker.client.get_metric_history(run.info.run_id, key)] == [1, 2]
        assert run.data.metrics["model_val_accuracy"] == pytest.approx(
            next(s for t, s in summary.scores if t == run.data.tags["tuning.trial_id"]))
    first = next(r for r in runs if r.data.tags["tuning.trial_id"] == "0")
    assert (first.data.params["units"], first.data.params["learning_rate"]) == ("16", "0.001")  # the base
    assert summary.epochs == 6


@pytest.mark.slow
def test_hyperband_trials_record_bracket_round_and_epochs(tracking_uri, tmp_path, split):
    tracker = Tracker(tracking_uri, "hyperband-test")
    with tracker.run("tuning", tags={"stage": "tuning"}) as stage_run_id:
        summary = search(tracker, stage_run_id, split, tmp_path / "search", kind="hyperband")
    runs = trial_runs(tracker, stage_run_id)
    assert len(runs) == summary.trials > 1
    for run in runs:
        assert {"tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round"} <= set(run.data.params)
    epochs = sum(int(r.data.params["tuner/epochs"]) - int(r.data.params["tuner/initial_epoch"]) for r in runs)
    assert summary.epochs == epochs


@pytest.mark.slow
def test_bayesian_optimization_starts_from_the_winner_too(tracking_uri, tmp_path, split):
    tracker = Tracker(tracking_uri, "bayesian-test")
    with tracker.run("tuning", tags={"stage": "tuning"}) as stage_run_id:
        summary = search(tracker, stage_run_id, split, tmp_path / "search", kind="bayesian", trials=2)
    runs = trial_runs(tracker, stage_run_id)
    assert summary.trials == 2 and len(runs) == 2
    first = min(runs, key=lambda r: r.info.start_time)
    assert (first.data.params["units"], first.data.params["optimizer"], first.data.params["learning_rate"]) == (
        "16", "adam", "0.001")


def test_unknown_tuner_is_rejected(tracking_uri, tmp_path, split):
    with pytest.raises(ValueError, match="unknown tuner 'grid'"):
        search(Tracker(tracking_uri, "x"), "none", split, tmp_path, kind="grid")


@pytest.mark.slow
def test_an_interrupted_search_resumes_without_duplicates(tracking_uri, tmp_path, split, monkeypatch):
    tracker = Tracker(tracking_uri, "resume-test")
    calls = {"n": 0}
    original = candidates_module.fit

    def interrupt_second_trial(*args, **kwargs):  # inside the trial's run, as a kill during its training
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated kill during trial 1")
        return original(*args, **kwargs)

    monkeypatch.setattr(candidates_module, "fit", interrupt_second_trial)
    with pytest.raises(KeyboardInterrupt):
        with tracker.run("tuning", tags={"stage": "tuning"}) as stage_run_id:
            search(tracker, stage_run_id, split, tmp_path / "search")
    before = {r.data.tags["tuning.trial_id"]: r for r in trial_runs(tracker, stage_run_id)}
    assert before["0"].info.status == "FINISHED" and before["1"].info.status in {"FAILED", "KILLED"}

    with tracker.run("tuning", resume_id=stage_run_id):
        summary = search(tracker, stage_run_id, split, tmp_path / "search")
    after = trial_runs(tracker, stage_run_id)
    assert summary.trials == 3
    assert sorted(r.data.tags["tuning.trial_id"] for r in after) == ["0", "1", "2"]  # one run per trial
    assert all(r.info.status == "FINISHED" for r in after)
    assert next(r for r in after if r.data.tags["tuning.trial_id"] == "0").info.run_id == before["0"].info.run_id
    assert calls["n"] == 4  # trial 0 was not run again: 2 before the interrupt, then trials 1 and 2
    assert tracker.client.get_run(stage_run_id).info.status == "FINISHED"


@pytest.mark.slow
def test_a_new_directory_starts_a_fresh_search(tracking_uri, tmp_path, split):
    tracker = Tracker(tracking_uri, "fresh-test")
    with tracker.run("a", tags={"stage": "tuning"}) as first:
        search(tracker, first, split, tmp_path / "one", trials=2)
    with tracker.run("b", tags={"stage": "tuning"}) as second:
        summary = search(tracker, second, split, tmp_path / "two", trials=2)
    assert summary.trials == 2 and len(trial_runs(tracker, second)) == 2
