from training.config import Selection
from training.diagnosis import best_epoch, diagnose

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
    assert "still falling at epoch 6" in d.advice


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
