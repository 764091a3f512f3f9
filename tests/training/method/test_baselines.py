"""The dummy and linear baselines are fitted on the split's train rows and scored on its raw test rows."""

import numpy as np
import pandas as pd
import pytest

from training.config import Selection
from training.data.split import make_split
from training.data.tables import validate_table
from training.method.baselines import score_baselines
from training.method.scoring import score_predictions


def split_of(task: str, rows: int = 300):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4))
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(4)])
    frame["color"] = rng.choice(["red", "green"], size=rows)
    if task == "classification":
        frame["y"] = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    else:
        frame["y"] = 100 + 30 * x[:, 0] - 20 * x[:, 2] + rng.normal(scale=1.0, size=rows)
    return make_split(validate_table(frame, "y", task, "inline", "inline"), (0.6, 0.2, 0.2), 0)


def test_classification_baselines_majority_class_and_logistic_regression():
    split = split_of("classification")
    baselines = score_baselines(split, Selection("val_accuracy", "max"), seed=0)
    assert baselines.metric == "test_accuracy"
    assert baselines.descriptions == {"dummy": "DummyClassifier(prior)", "linear": "LogisticRegression"}
    truth = split.test_frame["y"]
    majority = (truth == truth.value_counts().idxmax()).mean()  # at best the share of the test's top class
    assert baselines.scores["dummy"] <= majority
    assert baselines.scores["linear"] > 0.9  # a linear rule, which logistic regression finds
    # Log loss too, through the same scoring as the served network (probabilities per class).
    losses = score_baselines(split, Selection("val_loss", "min"), seed=0).scores
    assert losses["linear"] < losses["dummy"] < 0.75  # the priors' log loss (about ln 2), not a clipped 1e-7


def test_regression_baselines_mean_and_ridge_in_the_targets_units():
    split = split_of("regression")
    baselines = score_baselines(split, Selection("val_loss", "min"), seed=0)
    truth = split.test_frame["y"]
    mean_of_train = float(np.mean(split.y_train))
    expected = score_predictions(pd.DataFrame({"prediction": np.full(len(truth), mean_of_train)}), truth,
                                 "regression", "loss")
    assert baselines.scores["dummy"] == pytest.approx(expected)
    assert baselines.scores["linear"] < 5  # the noise is 1: ridge recovers the linear target
    assert baselines.descriptions["dummy"] == "DummyRegressor(mean)"
    assert score_baselines(split, Selection("val_mae", "min"), seed=0).descriptions["dummy"] == "DummyRegressor(median)"


def test_the_validation_reference_is_fitted_once_per_split_and_kept_with_it(monkeypatch):
    """Every candidate and trial of a run asks for it: one fit per split, metric and seed, held by the split
    itself (no process-wide cache that outlives it)."""
    from sklearn.linear_model import LogisticRegression

    from training.method.baselines import validation_reference

    fits = []
    real = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", lambda self, *a, **k: fits.append(1) or real(self, *a, **k))
    split, again = split_of("classification"), split_of("classification")
    accuracy = Selection("val_accuracy", "max")
    first = validation_reference(split, accuracy, 0)
    assert validation_reference(split, accuracy, 0) == first and len(fits) == 1
    validation_reference(split, Selection("val_loss", "min"), 0)
    assert len(fits) == 2 and len(split.memo) == 2
    assert validation_reference(again, accuracy, 0) == first and len(fits) == 3  # another split: its own
