import math

import pandas as pd
import pytest

from training.method.scoring import score_predictions


def classified(labels, proba_a):
    return pd.DataFrame({"prediction": labels, "proba_a": proba_a, "proba_b": [1 - p for p in proba_a]})


def test_accuracy_compares_labels_as_text():
    predictions = classified(["a", "b", "b", "a"], [0.9, 0.2, 0.4, 0.6])
    assert score_predictions(predictions, pd.Series(["a", "b", "a", "a"]), "classification", "accuracy") == 0.75
    numbers = pd.DataFrame({"prediction": [1, 2, 3]})
    assert score_predictions(numbers, pd.Series(["1", "2", "4"]), "classification", "accuracy") == pytest.approx(2 / 3)


def test_classification_loss_is_the_cross_entropy_of_the_true_class():
    predictions = classified(["a", "b"], [0.8, 0.4])
    loss = score_predictions(predictions, pd.Series(["a", "b"]), "classification", "loss")
    assert loss == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_a_class_the_model_never_saw_costs_the_clipped_maximum():
    predictions = classified(["a"], [1.0])
    loss = score_predictions(predictions, pd.Series(["c"]), "classification", "loss")
    assert loss == pytest.approx(-math.log(1e-7))


def test_regression_loss_is_mse_and_mae_is_mean_absolute_error():
    predictions = pd.DataFrame({"prediction": [1.0, 2.0, 5.0]})
    truth = pd.Series([1.0, 4.0, 4.0])
    assert score_predictions(predictions, truth, "regression", "loss") == pytest.approx((0 + 4 + 1) / 3)
    assert score_predictions(predictions, truth, "regression", "mae") == pytest.approx((0 + 2 + 1) / 3)


def test_a_metric_the_task_has_not_is_refused():
    with pytest.raises(ValueError, match="no test score for metric 'mae' and task 'classification'"):
        score_predictions(classified(["a"], [0.5]), pd.Series(["a"]), "classification", "mae")
    with pytest.raises(ValueError, match="'accuracy' and task 'regression'"):
        score_predictions(pd.DataFrame({"prediction": [1.0]}), pd.Series([1.0]), "regression", "accuracy")


def test_the_log_loss_is_scikit_learns_where_no_probability_is_clipped():
    import numpy as np
    from sklearn.metrics import log_loss as sk_log_loss

    from training.method.scoring import log_loss

    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), 50)
    truth = np.array([str(i) for i in rng.integers(0, 3, 50)])
    assert log_loss(truth, proba, [0, 1, 2]) == pytest.approx(sk_log_loss(truth, proba, labels=["0", "1", "2"]))
    assert log_loss(np.array(["9"]), proba[:1], [0, 1, 2]) == pytest.approx(-np.log(1e-7))  # a class never seen
