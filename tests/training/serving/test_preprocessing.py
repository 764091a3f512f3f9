import numpy as np
import pandas as pd
import pytest

from training.data.tables import DataError
from training.serving.preprocessing import Preprocessor

TRAIN = pd.DataFrame({"x": [1.0, 3.0, None], "c": ["a", "b", "a"], "y": ["no", "yes", "no"]})


def test_fit_transform_scales_imputes_and_encodes():
    pre = Preprocessor.fit(TRAIN, "y", "classification")
    x, imputed = pre.transform(TRAIN)
    assert pre.feature_names == ["x", "c=a", "c=b"]
    assert imputed == {"x": 1}
    # the missing x takes the train median (2.0), which is also the mean: scaled to 0
    assert x[:, 0].tolist() == pytest.approx([-1.2247449, 1.2247449, 0.0])
    assert x[:, 1:].tolist() == [[1, 0], [0, 1], [1, 0]]
    assert pre.encode_target(TRAIN["y"]).tolist() == [0, 1, 0]
    assert pre.decode_target(np.array([1, 0])) == ["yes", "no"]


def test_unseen_category_encodes_as_zeros_and_missing_category_takes_the_mode():
    pre = Preprocessor.fit(TRAIN, "y", "classification")
    x, imputed = pre.transform(pd.DataFrame({"x": [2.0, 2.0], "c": ["z", None]}))
    assert x[0, 1:].tolist() == [0, 0]
    assert x[1, 1:].tolist() == [1, 0]
    assert imputed == {"c": 1}


def test_missing_column_is_named():
    pre = Preprocessor.fit(TRAIN, "y", "classification")
    with pytest.raises(DataError, match=r"columns \['c'\] are missing"):
        pre.transform(pd.DataFrame({"x": [1.0]}))


def test_json_round_trip_gives_identical_output(tmp_path):
    pre = Preprocessor.fit(TRAIN, "y", "classification")
    loaded = Preprocessor.load(pre.save(tmp_path / "pre.json"))
    assert loaded == pre
    np.testing.assert_array_equal(loaded.transform(TRAIN)[0], pre.transform(TRAIN)[0])
