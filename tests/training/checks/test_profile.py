import json

import numpy as np
import pandas as pd

from tests.training.checks.data import wine
from training.checks.profile import (
    CATEGORY,
    MAX_KEPT_CATEGORIES,
    NUMBER,
    OTHER,
    TIME,
    DataProfile,
    bin_shares,
    profile_images,
    profile_table,
)


def test_a_tables_profile_has_each_columns_kind_nulls_deciles_and_shares_and_the_target():
    frame = wine()
    frame.loc[:9, "ash"] = np.nan
    profile = profile_table(frame, "cultivar", "classification")
    assert profile.rows == 178 and profile.target == "cultivar" and "cultivar" not in profile.columns
    ash, region = profile.columns["ash"], profile.columns["region"]
    assert (ash.kind, ash.dtype, ash.rows) == (NUMBER, "float64", 178)
    assert ash.null_fraction == 10 / 178
    assert ash.edges == list(np.quantile(frame["ash"].dropna(), np.linspace(0, 1, 11)))
    assert sum(ash.fractions) == 1.0 and len(ash.fractions) == 10
    assert (ash.minimum, ash.maximum) == (frame["ash"].min(), frame["ash"].max())
    assert region.kind == CATEGORY and region.complete
    assert region.shares == (frame["region"].value_counts() / 178).to_dict()
    assert profile.label == {"0": 59 / 178, "1": 71 / 178, "2": 48 / 178}
    # plain JSON, and back
    assert DataProfile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile


def test_many_categories_keep_the_top_ones_and_the_rest_as_other():
    values = pd.Series([f"user-{i}" for i in range(MAX_KEPT_CATEGORIES + 500)] + ["user-1"] * 100)
    profile = profile_table(pd.DataFrame({"who": values, "y": 1.0}), "y", "regression").columns["who"]
    assert not profile.complete and len(profile.shares) == 21 and profile.shares["user-1"] == 101 / len(values)
    assert abs(sum(profile.shares.values()) - 1) < 1e-9 and profile.shares[OTHER] > 0.9


def test_times_are_profiled_as_numbers_and_excluded_columns_not_at_all():
    frame = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=50, freq="D"), "x": range(50),
                          "y": np.linspace(0, 1, 50)})
    profile = profile_table(frame, "y", "regression")
    assert profile.columns["when"].kind == TIME and len(profile.columns["when"].edges) == 11
    assert profile.label_profile.minimum == 0.0 and profile.label == {}
    assert list(profile_table(frame, "y", "regression", exclude=("when",)).columns) == ["x"]


def test_bins_take_values_beyond_the_reference_in_the_outer_ones():
    edges = [0.0, 1.0, 2.0, 3.0]
    assert list(bin_shares(np.array([-5.0, 0.5, 1.5, 2.5, 99.0]), edges)) == [0.4, 0.2, 0.4]
    assert list(bin_shares(np.array([]), edges)) == [0.0, 0.0, 0.0]
    assert list(bin_shares(np.array([7.0, 7.0]), [7.0])) == [1.0]


def test_an_images_profile_has_classes_size_mode_and_each_channels_mean_and_spread():
    pixels = np.zeros((4, 2, 2, 3), dtype="uint8")
    pixels[:, :, :, 0] = 255
    pixels[2:, :, :, 2] = 100
    profile = profile_images(pd.Series(["cat", "cat", "dog", "dog"]), "label", (2, 2, 3), [pixels[:2], pixels[2:]],
                             unreadable=1, images_read=5)
    images = profile.images
    assert (images["height"], images["width"], images["channels"], images["mode"]) == (2, 2, 3, "RGB")
    assert images["channel_means"] == [255.0, 0.0, 50.0] and images["channel_spreads"] == [0.0, 0.0, 50.0]
    assert images["class_counts"] == {"cat": 2, "dog": 2} and profile.label == {"cat": 0.5, "dog": 0.5}
    assert (images["images_read"], images["unreadable"]) == (5, 1)
