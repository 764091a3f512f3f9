import numpy as np
import pandas as pd
import pytest

from training.data.split import make_split, split_indices
from training.data.tables import DataError, load_dataset, validate_table

FRACTIONS = (0.64, 0.16, 0.20)


def test_stratified_sizes_are_exact_per_class():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, val, test = split_indices(labels, "classification", FRACTIONS, seed=1)
    # per class: test round(n*0.2), val round(n*0.16), train the rest
    assert [np.sum(labels[test] == c) for c in range(3)] == [10, 6, 4]
    assert [np.sum(labels[val] == c) for c in range(3)] == [8, 5, 3]
    assert [np.sum(labels[train] == c) for c in range(3)] == [32, 19, 13]
    assert len(set(train) | set(val) | set(test)) == 100
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)


def test_regression_split_sizes():
    train, val, test = split_indices(np.linspace(0, 1, 50), "regression", FRACTIONS, seed=0)
    assert (len(train), len(val), len(test)) == (32, 8, 10)


def test_too_few_rows_in_a_class_is_named():
    labels = np.array(["a"] * 20 + ["rare"] * 2)
    with pytest.raises(DataError, match="class 'rare' has only 2 row"):
        split_indices(labels, "classification", FRACTIONS, seed=0)


def test_digits_split_and_fingerprint_are_reproducible():
    dataset = load_dataset("digits")
    first = make_split(dataset, FRACTIONS, seed=42)
    again = make_split(dataset, FRACTIONS, seed=42)
    other = make_split(dataset, FRACTIONS, seed=7)
    assert first.rows == {"train": 1151, "val": 287, "test": 359}
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != other.fingerprint
    assert first.n_features == 64 and first.n_classes == 10
    balance = first.class_balance()
    assert all(count > 0 for split in balance.values() for count in split.values())
    # scaling is fitted on train only: train columns are centred, the others only approximately
    assert np.allclose(first.x_train.mean(axis=0), 0, atol=1e-5)
    assert not first.x_train.flags.writeable


def test_imputation_uses_train_statistics_and_is_counted():
    frame = pd.DataFrame({
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, None, 7.0, 8.0, 9.0, 10.0] * 2,
        "color": ["red", "blue", None, "red", "red", "blue", "red", "blue", "red", "red"] * 2,
        "y": [0, 1] * 10,
    })
    dataset = validate_table(frame, target="y", task="classification", name="t", source="inline")
    split = make_split(dataset, FRACTIONS, seed=3)
    total = {name: sum(counts.values()) for name, counts in split.imputed.items()}
    assert sum(total.values()) == 4  # two missing x and two missing colors, wherever they landed
    assert split.preprocessor.feature_names == ["x", "color=blue", "color=red"]
    assert np.isfinite(split.x_train).all() and np.isfinite(split.x_test).all()
