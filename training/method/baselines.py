"""Sanity baselines: is the network worth having? A dummy model (the majority class, or the mean) and a
linear model (logistic or ridge regression, scikit-learn's) are fitted on the same split as the network and
scored on the same test rows with the same metric. Pure: no MLflow, no Prefect.

A network that does not beat the dummy has learnt nothing a constant does not know: it may not take
`champion`. One that does not beat the linear model is flagged: a simpler model would serve as well.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from training.config import Selection
from training.data.split import Split
from training.method.noise import row_scores
from training.method.scoring import score_predictions
from training.serving.predict import PROBA_PREFIX

DUMMY, LINEAR = "dummy", "linear"


@dataclass(frozen=True)
class BaselineScores:
    """Test scores of the baselines on the selection metric's test twin."""

    metric: str  # e.g. test_accuracy
    scores: dict[str, float]  # baseline name -> test score
    descriptions: dict[str, str]  # baseline name -> what it is, e.g. "DummyClassifier(prior)"


def baseline_models(task: str, seed: int, metric: str) -> dict[str, object]:
    """The dummy is the best constant for the metric: the class priors (the majority class for accuracy, and
    honest probabilities for log loss), the mean for squared error, the median for absolute error."""
    if task == "classification":
        return {DUMMY: DummyClassifier(strategy="prior"),
                LINEAR: LogisticRegression(max_iter=2000, random_state=seed)}
    return {DUMMY: DummyRegressor(strategy="median" if metric == "mae" else "mean"), LINEAR: Ridge(alpha=1.0)}


def describe(model) -> str:
    strategy = getattr(model, "strategy", None)
    return f"{type(model).__name__}({strategy})" if strategy else type(model).__name__


def class_probabilities(model, x: np.ndarray, n_classes: int) -> np.ndarray:
    """One column per class of the split, in its code order; a class absent from the train rows keeps 0."""
    proba = np.zeros((len(x), n_classes))
    proba[:, model.classes_] = model.predict_proba(x)
    return proba


def linear_outputs(model, split: Split, name: str) -> np.ndarray:
    """A fitted baseline's class probabilities (or predictions) on split `name`, chunk by chunk for images on
    disk."""
    parts = [class_probabilities(model, x, split.n_classes) if split.task == "classification" else model.predict(x)
             for x in split.flat_chunks(name)]
    return np.concatenate(parts)


def predictions(model, split: Split) -> pd.DataFrame:
    """Test-row predictions in the served model's format: `prediction` in the original labels or units, and
    `proba_<class>` for classification, so the same scoring compares them."""
    if split.task == "regression":
        return pd.DataFrame({"prediction": linear_outputs(model, split, "test").astype("float64")})
    proba = linear_outputs(model, split, "test")
    out = pd.DataFrame({"prediction": split.preprocessor.decode_target(proba.argmax(axis=1))})
    for i, label in enumerate(split.preprocessor.classes):
        out[f"{PROBA_PREFIX}{label}"] = proba[:, i]
    return out


def score_baselines(split: Split, selection: Selection, seed: int) -> BaselineScores:
    """Fit each baseline on the train rows and score it on the raw test rows' truth, as the network is."""
    metric = selection.metric.removeprefix("val_")
    truth = split.test_truth
    x_train, y_train = split.flat_train(seed)
    scores, descriptions = {}, {}
    for name, model in baseline_models(split.task, seed, metric).items():
        model.fit(x_train, y_train)
        scores[name] = score_predictions(predictions(model, split), truth, split.task, metric)
        descriptions[name] = describe(model)
    return BaselineScores(metric=f"test_{metric}", scores=scores, descriptions=descriptions)


_references_lock = threading.Lock()


def validation_reference(split: Split, selection: Selection, seed: int) -> float:
    """The linear baseline's score on the validation rows, in the selection metric's own units: the level a
    network's training and validation scores are judged against (training.method.diagnosis). Fitted once per split,
    metric and seed, and kept on the split (it lives and dies with it): every candidate and tuner trial of a run
    shares it."""
    metric = selection.metric.removeprefix("val_")
    key = ("validation_reference", metric, seed)
    with _references_lock:
        if key not in split.memo:
            model = baseline_models(split.task, seed, metric)[LINEAR]
            model.fit(*split.flat_train(seed))
            predicted = linear_outputs(model, split, "val")
            split.memo[key] = float(np.mean(row_scores(metric, split.task, split.y_val, predicted)))
        return split.memo[key]
