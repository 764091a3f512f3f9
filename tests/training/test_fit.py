import numpy as np
import pandas as pd
import pytest

from training.config import Selection
from training.data import validate_table
from training.fit import fit
from training.spec import ModelSpec
from training.split import make_split

ACC = Selection("val_accuracy", "max")


def small_split(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 4))
    frame = pd.DataFrame(x, columns=list("abcd"))
    frame["y"] = (x[:, 0] + x[:, 1] > 0).astype(int)
    dataset = validate_table(frame, "y", "classification", "inline", "inline")
    return make_split(dataset, (0.64, 0.16, 0.2), seed=seed)


def test_fit_records_one_point_per_epoch_and_the_learning_rate():
    split = small_split()
    spec = ModelSpec(units=(8,), epochs=4, batch_size=16, schedule="step", decay_rate=0.5, decay_every=2,
                     learning_rate=0.01)
    result = fit(spec, split, ACC, seed=1)
    assert {k: len(v) for k, v in result.history.items()} == {
        "loss": 4, "accuracy": 4, "val_loss": 4, "val_accuracy": 4, "learning_rate": 4}
    assert result.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.005])
    assert result.score == result.val_scores["val_accuracy"]
    assert result.param_count == 4 * 8 + 8 + 8 * 2 + 2
    assert result.fit_seconds > 0


def test_same_seed_same_result():
    split = small_split()
    spec = ModelSpec(units=(8,), epochs=2, batch_size=16)
    first, again = fit(spec, split, ACC, seed=5), fit(spec, split, ACC, seed=5)
    assert first.history == again.history


def test_early_stopping_and_checkpoint_restore_the_best_epoch(tmp_path):
    split = small_split()
    spec = ModelSpec(units=(8,), epochs=6, batch_size=16, early_stopping=True, patience=2,
                     checkpoint_best=True, learning_rate=0.05)
    result = fit(spec, split, ACC, seed=2, workdir=tmp_path)
    best = max(result.history["val_accuracy"])
    assert result.score == best
