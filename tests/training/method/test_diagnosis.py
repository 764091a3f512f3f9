import pytest

from training.config import Selection
from training.method.diagnosis import best_epoch, diagnose

ACC = Selection("val_accuracy", "max")
LOSS = Selection("val_loss", "min")


def history(loss, val_loss, acc=None):
    out = {"loss": loss, "val_loss": val_loss}
    if acc is not None:
        out["val_accuracy"] = acc
    return out


def test_overfitting_names_the_epoch_and_the_rise():
    h = history([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], [1.0, 0.7, 0.5, 0.55, 0.6, 0.65, 0.7])
    d = diagnose(h, LOSS)
    assert d.regime == "overfitting"
    assert d.best_epoch == 3
    assert "from epoch 3" in d.advice and "stop at epoch 3" in d.advice
    assert d.gap == 0.5 - 0.4


def test_underfitting_when_still_improving():
    h = history([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.1, 0.9, 0.7, 0.6, 0.5, 0.4])
    d = diagnose(h, LOSS)
    assert d.regime == "underfitting" and d.still_improving
    assert "validation loss fell 33% from epoch 4 to epoch 6" in d.advice


def test_flat_history_is_not_learning():
    d = diagnose(history([1.0] * 6, [1.0] * 6), LOSS)
    assert d.regime == "underfitting"
    assert "not learning" in d.advice


def test_good_fit_when_validation_flattens():
    h = history([1.0, 0.5, 0.3, 0.25, 0.24, 0.23], [1.0, 0.55, 0.35, 0.33, 0.335, 0.334])
    assert diagnose(h, LOSS).regime == "good fit"


def test_noise_at_the_end_is_not_overfitting():
    h = history([1.0, 0.5, 0.3, 0.25, 0.24, 0.23, 0.22], [1.0, 0.5, 0.35, 0.33, 0.36, 0.33, 0.34])
    assert diagnose(h, LOSS).regime == "good fit"


def test_one_epoch():
    d = diagnose(history([1.0], [1.1], [0.5]), ACC)
    assert (d.regime, d.best_epoch, d.best_score) == ("underfitting", 1, 0.5)


def test_nan_loss_is_diverged():
    d = diagnose(history([1.0, float("nan"), float("nan")], [1.0, float("nan"), float("nan")]), LOSS)
    assert d.regime == "diverged"
    assert "epoch 2" in d.advice


def test_best_epoch_uses_the_selection_metric_and_direction():
    h = history([1.0, 0.5, 0.4], [1.0, 0.6, 0.7], [0.5, 0.8, 0.9])
    assert diagnose(h, ACC).best_epoch == 3
    assert diagnose(h, LOSS).best_epoch == 2
    assert best_epoch([0.5, 0.9, 0.9], "max") == 2
    assert best_epoch([float("nan"), 0.3], "min") == 2


def test_both_scores_poor_against_the_linear_reference_is_underfitting_whatever_the_shape():
    # Measured before: a digits network ending at 0.19 training and 0.17 validation accuracy was a "good fit".
    h = {"loss": [2.3, 2.2, 2.15, 2.14], "val_loss": [2.3, 2.25, 2.2, 2.2], "accuracy": [0.12, 0.16, 0.18, 0.19],
         "val_accuracy": [0.11, 0.15, 0.17, 0.17]}
    assert diagnose(h, ACC).regime == "good fit"  # shapes alone
    d = diagnose(h, ACC, reference=0.96, score_se=0.022)
    assert d.regime == "underfitting" and d.reference == 0.96 and d.train_score == 0.18
    assert "no better than a linear model's 0.9600" in d.advice


def test_an_early_stopped_run_is_never_told_to_train_longer():
    # Measured before: 1.000 training and 0.962 validation accuracy, stopped by early stopping, was "underfitting:
    # train longer". Its validation loss is within 1% of its best at the end, as a plateau is.
    val_loss = [0.9, 0.5, 0.3, 0.2, 0.15, 0.135, 0.129, 0.135, 0.133, 0.132, 0.131, 0.130]
    h = {"loss": [0.8, 0.4, 0.2, 0.1, 0.05, 0.03, 0.02, 0.015, 0.01, 0.008, 0.007, 0.006], "val_loss": val_loss,
         "accuracy": [0.8, 0.9, 0.95, 0.98, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
         "val_accuracy": [0.8, 0.88, 0.92, 0.95, 0.955, 0.96, 0.962, 0.96, 0.961, 0.96, 0.96, 0.96]}
    # The loss alone would say "still improving"; the accuracy peaked at epoch 7 of 12, so it is not either way.
    assert not diagnose(h, ACC).still_improving
    d = diagnose(h, ACC, score_se=0.011, stopped_early=True)
    assert not d.still_improving and "train longer" not in d.advice
    assert d.regime == "overfitting" and "gap of 0.0380 beyond noise" in d.advice
    assert d.tags()["diagnosis.stopped_early"] == "true"


def test_a_gap_within_noise_is_a_good_fit():
    h = {"loss": [1.0, 0.5, 0.3, 0.25, 0.24, 0.24], "val_loss": [1.0, 0.55, 0.35, 0.33, 0.335, 0.334],
         "accuracy": [0.7, 0.85, 0.9, 0.93, 0.96, 0.96], "val_accuracy": [0.7, 0.84, 0.9, 0.92, 0.925, 0.925]}
    assert diagnose(h, ACC, reference=0.9, score_se=0.02).regime == "good fit"  # gap 0.035 < 2 x 0.02
    assert diagnose(h, ACC, reference=0.9, score_se=0.01).regime == "overfitting"  # gap 0.035 > 2 x 0.01


@pytest.fixture(scope="module")
def digits():
    from training.data.split import make_split
    from training.data.tables import load_dataset

    return make_split(load_dataset("digits", None, "auto"), (0.64, 0.16, 0.2), seed=42)


def test_real_trainings_land_in_the_regime_their_levels_say(digits):
    from training.method.fit import fit
    from training.model.spec import ModelSpec

    tiny = fit(ModelSpec(units=(4,), epochs=3, batch_size=64), digits, ACC, seed=42).diagnosis
    assert tiny.regime == "underfitting" and tiny.train_score < tiny.reference and tiny.best_score < tiny.reference
    stopped = fit(ModelSpec(units=(128, 64), epochs=60, early_stopping=True, patience=5), digits, ACC, seed=42)
    d = stopped.diagnosis
    assert stopped.epochs_run < 60 and d.stopped_early and not d.still_improving
    assert d.regime in ("overfitting", "good fit") and "train longer" not in d.advice


def test_the_curves_read_are_the_data_loss_not_the_weight_penalty():
    # Measured before (issue 29): an L2 model's val_loss fell 20% over its last epochs as its weights shrank,
    # while the data's own loss was flat and the accuracy peaked at epoch 4: "underfitting: still falling".
    penalty = [0.5 - 0.015 * i for i in range(12)]
    val_data = [0.9, 0.4, 0.3, 0.25, 0.25, 0.26, 0.25, 0.26, 0.25, 0.26, 0.25, 0.26]
    train_data = [0.8, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09, 0.08, 0.08, 0.07, 0.07, 0.07]
    h = {"loss": [a + b for a, b in zip(train_data, penalty, strict=True)],
         "val_loss": [a + b for a, b in zip(val_data, penalty, strict=True)],
         "data_loss": train_data, "val_data_loss": val_data,
         "accuracy": [0.8, 0.9, 0.93, 0.95, 0.96, 0.96, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97],
         "val_accuracy": [0.8, 0.9, 0.92, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.951]}
    without = {k: v for k, v in h.items() if not k.endswith("data_loss")}
    assert diagnose(without, ACC, score_se=0.012).still_improving  # the penalty's fall, read as the data's
    d = diagnose(h, ACC, score_se=0.012)
    assert not d.still_improving and d.regime == "good fit", d.advice


def test_a_loss_still_falling_while_the_metric_peaked_early_is_not_still_improving():
    # Measured before (issue 29): training accuracy 1.000, validation accuracy best at epoch 9 of 30 and flat
    # after, validation loss still creeping down: "underfitting: validation loss still falling (3%)".
    val_loss = [1.0 - 0.02 * i for i in range(30)]
    h = {"loss": [0.9 * 0.8**i for i in range(30)], "val_loss": val_loss,
         "accuracy": [min(1.0, 0.8 + 0.03 * i) for i in range(30)],
         "val_accuracy": [min(0.96, 0.8 + 0.02 * i) for i in range(30)]}
    d = diagnose(h, ACC, score_se=0.011)
    assert d.best_epoch == 9 and not d.still_improving
    assert d.regime == "overfitting" and "train longer" not in d.advice, d.advice


def test_a_network_that_fits_its_rows_while_validation_improves_is_still_improving_not_underfitting():
    h = {"loss": [1.0, 0.5, 0.2, 0.1, 0.05, 0.03], "val_loss": [1.0, 0.7, 0.5, 0.4, 0.33, 0.3],
         "accuracy": [0.7, 0.9, 0.97, 0.99, 1.0, 1.0], "val_accuracy": [0.7, 0.85, 0.9, 0.92, 0.93, 0.94]}
    d = diagnose(h, ACC, reference=0.9, score_se=0.01)
    assert d.regime == "still improving" and d.still_improving
    assert d.advice.startswith("still improving: validation loss fell 25% from epoch 4 to epoch 6 and validation "
                               "accuracy was best at epoch 6, while training accuracy 1.0000 is perfect")
    # Training close behind validation: too small or too short, the course's underfitting.
    close = {**h, "accuracy": [0.7, 0.85, 0.9, 0.92, 0.93, 0.945]}
    d = diagnose(close, ACC, reference=0.9, score_se=0.01)
    assert d.regime == "underfitting" and "training close behind; train longer or grow" in d.advice
