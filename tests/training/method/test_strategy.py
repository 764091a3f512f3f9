"""The adaptive strategy's decisions on crafted results with a known answer (pure, instant). Real trainings that
land in each regime are in tests/training/method/test_strategy_real.py."""

from dataclasses import replace

import pytest

from training.config import PipelineConfig, Selection
from training.method.diagnosis import Diagnosis
from training.method.selection import CandidateResult, StageResult
from training.method.strategy import (
    capacity_plan,
    deeper,
    grid_plan,
    narrower,
    next_step,
    one_round_plan,
    plan_capacity,
    plan_regularization,
    regularization_plan,
    search_scale,
    shallower,
    wider,
)
from training.model.spec import ModelSpec

ACC = Selection("val_accuracy", "max")
LOSS = Selection("val_loss", "min")
BASE = ModelSpec(units=(128, 64), epochs=30)


def result(name, spec, score, *, se=0.01, regime="good fit", improving=False, lag=0.0):
    diagnosis = Diagnosis(regime, spec.epochs, score, 0.0, improving, f"{regime} advice", lag=lag)
    return CandidateResult(name=name, spec=spec, run_id=f"run-{name}", model_uri="", score=score, val_scores={},
                           diagnosis=diagnosis, fit_seconds=1.0, param_count=sum(spec.units), epochs_run=spec.epochs,
                           score_se=se)


def drive(plan, selection, score_of, base=None):
    """Run a plan to its outcome, training each asked spec with `score_of(name, spec) -> CandidateResult`."""
    results, batches = ([base] if base else []), []
    while (step := next_step(plan, results, selection)).batch:
        batches.append(list(step.batch))
        results += [score_of(name, spec) for name, spec in step.batch.items()]
    return step.outcome, batches


def test_moves_keep_the_courses_shape_and_stop_at_their_limits():
    assert wider((128, 64)) == (256, 128) and wider((1024,)) is None
    assert deeper((128, 64)) == (128, 64, 32) and deeper((8, 8, 8, 8, 8)) is None
    assert narrower((128, 64)) == (64, 32) and narrower((8,)) is None
    assert shallower((128, 64)) == (128,) and shallower((8,)) is None


def test_an_underfitting_base_grows_wider_then_deeper_until_a_step_is_within_noise():
    base = result("base", BASE, 0.80, regime="underfitting", se=0.01)
    scores = {(256, 128): 0.85, (512, 256): 0.855, (256, 128, 64): 0.87, (256, 128, 64, 32): 0.86}

    def score_of(name, spec):
        return result(name, spec, scores[spec.units], regime="good fit")

    outcome, batches = drive(capacity_plan(BASE, "standard"), ACC, score_of, base)
    # Wider wins (+0.05 > 0.01); twice wider gains 0.005 (within noise): deeper next; deeper again is worse.
    assert batches == [["units-256-128"], ["units-512-256"], ["units-256-128-64"], ["units-256-128-64-32"]]
    assert outcome.winner == "units-256-128-64"
    assert outcome.margin == pytest.approx(0.01)
    assert outcome.decisions["units-512-256"] == "against units-256-128: +0.0050, within noise 0.0100: not kept"
    assert outcome.decisions["units-256-128-64-32"].endswith("worse, not kept")
    assert outcome.story.startswith("underfitting: grow the network (val_accuracy 0.8000, standard error 0.0100)")
    assert "wider units-256-128 0.8500 (+0.0500 > noise 0.0100: kept)" in outcome.story
    assert outcome.story.endswith(
        "winner units-256-128-64 (units 256-128-64, 30 epochs), +0.0700 over the incoming base")


def test_an_overfitting_base_shrinks_and_the_step_budget_ends_the_walk():
    base = result("base", BASE, 0.90, regime="overfitting", se=0.005)

    def score_of(name, spec):  # every halving helps
        return result(name, spec, 0.90 + 0.02 * (128 // spec.units[0]).bit_length(), regime="overfitting")

    outcome, batches = drive(capacity_plan(BASE, "quick"), ACC, score_of, base)
    assert batches == [["units-64-32"], ["units-32-16"]]  # the quick profile's budget: two steps
    assert outcome.winner == "units-32-16"
    assert outcome.story.startswith("overfitting: shrink the network")


def test_a_good_fit_tries_one_step_each_way_at_once_and_keeps_the_base_when_both_are_noise():
    base = result("base", BASE, 0.95, se=0.01)
    outcome, batches = drive(capacity_plan(BASE, "standard"), ACC,
                             lambda name, spec: result(name, spec, 0.955), base)
    assert batches == [["units-256-128", "units-64-32"]]
    assert outcome.winner == "base"
    assert outcome.story.endswith("kept the incoming units 128-64, 30 epochs")


def test_a_still_improving_winner_trains_longer_and_keeps_the_epochs_that_pay():
    base = result("base", BASE, 0.95, regime="good fit", se=0.01)
    gains = {30: 0.95, 60: 0.97, 120: 0.975}

    def score_of(name, spec):
        if spec.units != BASE.units:
            return result(name, spec, 0.90)
        return result(name, spec, gains[spec.epochs], improving=True)

    improving_base = replace(base, diagnosis=replace(base.diagnosis, still_improving=True))
    outcome, batches = drive(capacity_plan(BASE, "standard"), ACC, score_of, improving_base)
    assert batches[-2:] == [["epochs-60"], ["epochs-120"]]
    assert outcome.winner == "epochs-60"  # 120 epochs gained 0.005: within noise, the cheaper 60 stay
    assert "still improving at 30 epochs → 60 epochs 0.9700 (+0.0200 > noise 0.0100: kept)" in outcome.story
    assert outcome.decisions["epochs-120"] == "against epochs-60: +0.0050, within noise 0.0100: not kept"


def test_regression_selects_lower_loss_with_the_same_loop():
    base = result("base", BASE, 3500.0, regime="underfitting", se=200.0)
    losses = {(256, 128): 3000.0, (512, 256): 2900.0, (256, 128, 64): 3100.0}
    outcome, batches = drive(capacity_plan(BASE, "standard"), LOSS,
                             lambda name, spec: result(name, spec, losses[spec.units], se=200.0), base)
    assert batches == [["units-256-128"], ["units-512-256"], ["units-256-128-64"]]
    assert outcome.winner == "units-256-128"  # 2900 is 100 lower: within the 200 margin
    assert "+500.0000 > noise 200.0000: kept" in outcome.story


def test_regularization_acts_only_on_something_to_cure():
    rates, factors = [0.2, 0.3, 0.5], [1e-3, 1e-2]
    # Underfitting: batch normalization alone, said so.
    under = result("base", BASE, 0.8, regime="underfitting")
    outcome, batches = drive(regularization_plan(BASE, "standard", rates, factors), ACC,
                             lambda name, spec: result(name, spec, 0.79), under)
    assert batches == [["batchnorm"]] and outcome.winner == "base"
    assert "dropout and weight decay would make it worse" in outcome.story
    # A good fit whose validation is within noise of training: nothing trained.
    fit = result("base", BASE, 0.95, lag=0.004, se=0.01)
    outcome, batches = drive(regularization_plan(BASE, "standard", rates, factors), ACC,
                             lambda name, spec: pytest.fail("nothing should train"), fit)
    assert batches == [] and outcome.winner == "base"
    assert "nothing to cure, no variant trained" in outcome.story
    # Overfitting: one rung of each kind, then the winning kind's stronger rungs while they pay.
    over = result("base", BASE, 0.90, regime="overfitting", lag=0.08, se=0.01)
    scores = {"dropout-0.2": 0.93, "l2-0.001": 0.905, "batchnorm": 0.92, "dropout-0.3": 0.95, "dropout-0.5": 0.951}
    outcome, batches = drive(regularization_plan(BASE, "standard", rates, factors), ACC,
                             lambda name, spec: result(name, spec, scores[name]), over)
    assert batches == [["dropout-0.2", "l2-0.001", "batchnorm"], ["dropout-0.3"], ["dropout-0.5"]]
    assert outcome.winner == "dropout-0.3"
    assert outcome.decisions["l2-0.001"] == "against base: +0.0050, within noise 0.0100: not kept"
    assert outcome.decisions["batchnorm"] == ("against base: +0.0200 > noise 0.0100, but dropout-0.2 did better: "
                                              "not kept")


def test_augmentation_is_the_first_rung_for_images_and_the_last_for_tables():
    rates, factors = [0.2, 0.3], [1e-3]
    images = replace(BASE, family="cnn", units=(16, 32), augment_transforms=("rotation", "zoom"))
    rungs = [(f"augment-{s:g}", replace(images, augment=s)) for s in (0.1, 0.2, 0.3)]
    over = result("base", images, 0.90, regime="overfitting", lag=0.08, se=0.01)
    scores = {"augment-0.1": 0.94, "dropout-0.2": 0.92, "l2-0.001": 0.90, "batchnorm": 0.91, "augment-0.2": 0.96,
              "augment-0.3": 0.955}
    outcome, batches = drive(regularization_plan(images, "standard", rates, factors, augment=rungs), ACC,
                             lambda name, spec: result(name, spec, scores[name]), over)
    assert batches == [["augment-0.1", "dropout-0.2", "l2-0.001", "batchnorm"], ["augment-0.2"], ["augment-0.3"]]
    assert outcome.winner == "augment-0.2"
    assert outcome.story.endswith("winner augment-0.2 (filters 16-32, augment rotation+zoom 0.2, 30 epochs), "
                                  "+0.0600 over the incoming base")
    # The quick profile's two first rungs on images: augmentation and dropout.
    outcome, batches = drive(regularization_plan(images, "quick", rates, [], augment=rungs[:1]), ACC,
                             lambda name, spec: result(name, spec, 0.90), over)
    assert batches[0] == ["augment-0.1", "dropout-0.2"]
    # Tables: Gaussian input noise after the other kinds; an underfitting base never gets it.
    table = replace(BASE, augment_transforms=("noise",))
    noise = [("noise-0.1", replace(table, augment=0.1))]
    over = result("base", table, 0.90, regime="overfitting", lag=0.08, se=0.01)
    _, batches = drive(regularization_plan(table, "standard", rates, factors, augment=noise), ACC,
                       lambda name, spec: result(name, spec, 0.90), over)
    assert batches == [["dropout-0.2", "l2-0.001", "batchnorm", "noise-0.1"]]
    under = result("base", table, 0.80, regime="underfitting")
    _, batches = drive(regularization_plan(table, "standard", rates, factors, augment=noise), ACC,
                       lambda name, spec: result(name, spec, 0.79), under)
    assert batches == [["batchnorm"]]


def test_each_capacity_step_can_retune_the_learning_rate_and_is_judged_at_its_best_rate():
    under = result("base", BASE, 0.80, regime="underfitting", se=0.01)
    scores = {"units-256-128": 0.81, "units-256-128-lr-0.000333": 0.78, "units-256-128-lr-0.003": 0.86,
              "units-512-256-lr-0.003": 0.86, "units-512-256": 0.84, "units-512-256-lr-0.009": 0.85}
    outcome, batches = drive(capacity_plan(BASE, "standard", lr_sweep=True), ACC,
                             lambda name, spec: result(name, spec, scores.get(name, 0.5), regime="underfitting"),
                             under)
    assert batches[0] == ["units-256-128", "units-256-128-lr-0.000333", "units-256-128-lr-0.003"]
    # The wider network at 3x the rate beats the base; the next step sweeps around that rate and is within noise.
    assert batches[1] == ["units-512-256", "units-512-256-lr-0.001", "units-512-256-lr-0.009"]
    assert outcome.winner == "units-256-128-lr-0.003"
    assert outcome.decisions["units-256-128"] == ("learning-rate sweep of units-256-128: units-256-128-lr-0.003 "
                                                  "(0.003) scored better")
    assert "wider units-256-128-lr-0.003 0.8600 (+0.0600 > noise" in outcome.story
    # The winner's short description names the rate the sweep moved it to (the default rate goes unsaid).
    assert "winner units-256-128-lr-0.003 (units 256-128, lr 0.003, " in outcome.story
    # Off (the quick and standard profiles' default): one training per step, as before.
    _, batches = drive(capacity_plan(BASE, "standard"), ACC,
                       lambda name, spec: result(name, spec, 0.80, regime="underfitting"), under)
    assert batches[0] == ["units-256-128"]
    assert PipelineConfig(profile="full").capacity_lr_sweep and not PipelineConfig().capacity_lr_sweep
    assert PipelineConfig(lr_sweep="on").capacity_lr_sweep


def test_a_gain_inside_the_noise_margin_is_not_accepted():
    grid = {"base": BASE, "step": replace(BASE, schedule="step")}
    base = result("base", BASE, 0.950, se=0.012)
    outcome, _ = drive(one_round_plan(grid, "schedules"), ACC, lambda name, spec: result(name, spec, 0.961), base)
    assert outcome.winner == "base"
    assert outcome.decisions["step"] == "against base: +0.0110, within noise 0.0120: not kept"
    outcome, _ = drive(one_round_plan(grid, "schedules"), ACC, lambda name, spec: result(name, spec, 0.963), base)
    assert outcome.winner == "step"
    assert outcome.story.endswith("winner step (units 128-64, 30 epochs, step decay x0.5/5ep), +0.0130 over the "
                                  "incoming base")


def test_the_grid_trains_everything_at_once_and_the_best_score_wins():
    grid = {"base": BASE, "a": replace(BASE, units=(32,)), "b": replace(BASE, units=(256,))}
    scores = {"base": 0.95, "a": 0.951, "b": 0.94}
    outcome, batches = drive(grid_plan(grid), ACC, lambda name, spec: result(name, spec, scores[name]))
    assert batches == [["base", "a", "b"]] and outcome.winner == "a" and outcome.story == ""


def test_a_replay_asks_for_the_same_step_again():
    base = result("base", BASE, 0.8, regime="underfitting")
    plan = capacity_plan(BASE, "standard")
    assert next_step(plan, [base], ACC).batch == {"units-256-128": replace(BASE, units=(256, 128))}
    assert next_step(plan, [], ACC).batch == {"base": BASE}


def test_the_strategy_setting_picks_the_plan():
    base = result("base", BASE, 0.8, regime="underfitting")
    grid = next_step(plan_capacity(BASE, PipelineConfig(profile="quick", strategy="grid")), [base], ACC).batch
    assert list(grid) == ["units-32", "units-256-128-64"]
    adaptive = next_step(plan_capacity(BASE, PipelineConfig(profile="quick")), [base], ACC).batch
    assert list(adaptive) == ["units-256-128"]
    mine = next_step(plan_capacity(BASE, PipelineConfig(profile="quick", capacity_units=[(16,)])), [base], ACC)
    assert list(mine.batch) == ["units-16"]
    over = replace(base, diagnosis=replace(base.diagnosis, regime="overfitting"))
    first = next_step(plan_regularization(BASE, PipelineConfig(profile="quick")), [over], ACC).batch
    assert list(first) == ["dropout-0.2", "batchnorm"]  # quick: no weight decay rungs


def stage(winner_score, base_score, margin):
    base = result("base", BASE, base_score)
    winner = base if winner_score == base_score else result("w", BASE, winner_score)
    return StageResult("s", "run", "val_accuracy", "max", [base, winner], winner, "base", 1.0, story="x",
                       margin=margin)


def test_the_search_budget_follows_what_the_last_stages_still_gained():
    grid = stage(0.93, 0.9, None)
    assert search_scale([grid, grid]) == 1.0  # the grid strategy: no margins, the profile's budget
    assert search_scale([stage(0.9, 0.9, 0.01), stage(0.9, 0.9, 0.01)]) == 0.25
    assert search_scale([stage(0.9, 0.9, 0.01), stage(0.915, 0.9, 0.01)]) == 0.5
    assert search_scale([stage(0.93, 0.9, 0.01), stage(0.9, 0.9, 0.01)]) == 1.0


def test_a_small_gain_on_the_same_rows_counts_when_the_paired_difference_is_steady():
    # Diabetes-like: two models' squared errors are large and spread, but the candidate is lower on every row.
    # One standard error of either score (unpaired) is 200; of their difference, about 1.
    rows = [1000.0 + 400.0 * (i % 5) for i in range(100)]
    base = replace(result("base", BASE, sum(rows) / 100, se=200.0, regime="overfitting"), val_rows=rows)
    better = [r - 50.0 + 20.0 * (i % 2) for i, r in enumerate(rows)]
    grid = {"base": BASE, "dropout": replace(BASE, dropout=0.2)}

    def score_of(name, spec):
        return replace(result(name, spec, sum(better) / 100, se=200.0), val_rows=better)

    outcome, _ = drive(one_round_plan(grid, "dropout"), LOSS, score_of, base)
    assert outcome.winner == "dropout"
    assert outcome.decisions["dropout"] == "against base: +40.0000 > noise 1.0050: kept"
    assert outcome.margin == 200.0  # the stage's own noise: the incoming winner's standard error
    unpaired = replace(base, val_rows=[])
    outcome, _ = drive(one_round_plan(grid, "dropout"), LOSS, score_of, unpaired)
    assert outcome.winner == "base"  # without the rows, only the unpaired margin is known: within it


def test_a_nan_score_never_wins_and_never_blocks():
    grid = {"base": BASE, "lower-rate": replace(BASE, learning_rate=1e-4)}
    diverged = result("base", BASE, float("nan"), regime="diverged")
    outcome, _ = drive(one_round_plan(grid, "schedules"), LOSS, lambda name, spec: result(name, spec, 0.5), diverged)
    assert outcome.winner == "lower-rate"
    assert outcome.decisions["lower-rate"] == "against base: base has no score (NaN): kept"
    fine = result("base", BASE, 0.5)
    outcome, _ = drive(one_round_plan(grid, "schedules"), LOSS,
                       lambda name, spec: result(name, spec, float("nan")), fine)
    assert outcome.winner == "base" and outcome.decisions["lower-rate"].endswith("no score (NaN): not kept")


def test_training_longer_stops_at_the_runs_cap_whatever_the_stage():
    improving = replace(BASE, epochs=60)  # a capacity stage already doubled the run's 30 epochs
    base = result("base", improving, 0.9, regime="overfitting", improving=True, lag=0.1)

    def score_of(name, spec):
        return result(name, spec, 0.95, improving=True)

    # The run's cap (30 x 2**2 = 120) allows one more doubling here, not two.
    outcome, batches = drive(regularization_plan(improving, "standard", [], [], max_epochs=120), ACC, score_of,
                             base)
    assert batches[-1] == ["epochs-120"] and "epochs-240" not in outcome.decisions


def test_an_overfitting_base_with_nothing_configured_to_try_says_so():
    over = result("base", replace(BASE, batchnorm=True), 0.9, regime="overfitting", lag=0.1)
    outcome, batches = drive(regularization_plan(replace(BASE, batchnorm=True), "standard", [], []), ACC,
                             lambda name, spec: pytest.fail("nothing to train"), over)
    assert batches == [] and "no regularization stronger than the base's own is configured" in outcome.story


def test_a_base_that_fits_its_rows_and_still_improves_trains_longer_and_is_never_grown():
    # Measured before (issue 29): a baseline at training accuracy 1.000 and validation still improving was called
    # underfitting, and the capacity stage grew it.
    base = result("base", BASE, 0.95, regime="still improving", improving=True, lag=0.05)

    def score_of(name, spec):
        return result(name, spec, 0.97 if spec.units == BASE.units else 0.96, regime="overfitting", lag=0.03)

    outcome, batches = drive(capacity_plan(BASE, "standard"), ACC, score_of, base)
    # 60 epochs wins; overfitting at 60 epochs, the capacity stage shrinks from there, and never grows.
    assert batches[0] == ["epochs-60"] and batches[1] == ["units-64-32"]
    assert not any(max(spec_units) > 128 for batch in batches for spec_units in
                   [tuple(int(u) for u in name.split("-")[1:]) for name in batch if name.startswith("units-")])
    assert outcome.story.startswith("still improving while it fits its training rows: train longer before any "
                                    "capacity step")
    assert "at 60 epochs, overfitting: shrink the network" in outcome.story


def test_a_still_improving_base_that_stays_so_at_the_epoch_cap_is_handed_on_longer():
    base = result("base", BASE, 0.95, regime="still improving", improving=True, lag=0.05)

    def score_of(name, spec):
        return result(name, spec, 0.95 + spec.epochs / 1000, regime="still improving", improving=True, lag=0.05)

    outcome, batches = drive(regularization_plan(BASE, "standard", [0.2], [1e-4]), ACC, score_of, base)
    assert [b[0] for b in batches] == ["epochs-60", "epochs-120"]  # the standard cap: 4 x 30 epochs
    assert outcome.winner == "epochs-120"
    assert "train longer before regularizing" in outcome.story
