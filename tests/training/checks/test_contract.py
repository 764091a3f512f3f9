"""The contract on real nights of the wine table: each broken rule is named with its column and numbers."""

import numpy as np

from tests.training.checks.data import wine
from training.checks.contract import QUALITY, SCHEMA, VOLUME, ContractRules, check_contract, schema_broken
from training.checks.profile import profile_images, profile_table

RULES = ContractRules()


def broken(night, reference=None, rules=RULES, target="cultivar"):
    before = profile_table(wine() if reference is None else reference, "cultivar", "classification")
    return [(v.rule, v.kind, v.column) for v in check_contract(before, profile_table(night, target, "classification"),
                                                                rules)]


def test_an_unchanged_night_breaks_nothing():
    assert broken(wine()) == []


def test_a_renamed_column_is_one_missing_and_one_new():
    assert broken(wine().rename(columns={"alcohol": "alcohol_pct"})) == [
        ("column missing", SCHEMA, "alcohol"), ("new column", SCHEMA, "alcohol_pct")]


def test_a_number_become_text_is_a_type_change_with_both_types():
    night = wine()
    night["magnesium"] = night["magnesium"].map(lambda v: f"{v} mg")
    (violation,) = check_contract(profile_table(wine(), "cultivar", "classification"),
                                  profile_table(night, "cultivar", "classification"), RULES)
    assert (violation.rule, violation.column) == ("type changed", "magnesium")
    assert violation.detail == "number (float64) -> category (str)"


def test_a_class_that_vanished_and_a_new_one_are_named():
    night = wine()
    night = night[night["cultivar"] != 2].copy()
    night.loc[night.index[:30], "cultivar"] = 7
    violations = check_contract(profile_table(wine(), "cultivar", "classification"),
                                profile_table(night, "cultivar", "classification"), RULES)
    assert [(v.rule, v.detail) for v in violations] == [("classes changed", "gone: ['2']; new: ['7']")]
    assert schema_broken(violations)


def test_another_task_or_target_is_a_schema_change():
    night = wine().rename(columns={"cultivar": "kind"})
    before = profile_table(wine(), "cultivar", "classification")
    rules = [v.rule for v in check_contract(before, profile_table(night, "kind", "classification"), RULES)]
    assert rules == ["target changed"]
    regression = profile_table(wine(), "cultivar", "regression")
    assert [v.rule for v in check_contract(before, regression, RULES)] == ["task changed"]


def test_too_few_rows_more_nulls_and_unseen_categories_are_volume_and_quality():
    night = wine().sample(frac=0.4, random_state=0)
    assert broken(night) == [("rows collapsed", VOLUME, None)]
    night = wine()
    night.loc[night.index[:40], "hue"] = np.nan  # 22% missing, none before
    night.loc[night.index[:20], "region"] = "atlantis"  # 11% of the rows in a category never seen
    assert broken(night) == [("nulls increased", QUALITY, "hue"), ("unseen categories", QUALITY, "region")]
    relaxed = ContractRules(min_rows_share=0.3, max_null_increase=0.25, max_unseen_share=0.2)
    assert broken(night, rules=relaxed) == []
    assert broken(wine().sample(frac=0.4, random_state=0), rules=relaxed) == []


def test_images_of_other_channels_or_size_are_a_schema_change():
    labels = wine()["cultivar"].astype(str)
    gray = profile_images(labels, "label", (8, 8, 1), [np.zeros((4, 8, 8, 1), dtype="uint8")])
    colour = profile_images(labels, "label", (8, 8, 3), [np.zeros((4, 8, 8, 3), dtype="uint8")])
    larger = profile_images(labels, "label", (16, 16, 1), [np.zeros((4, 16, 16, 1), dtype="uint8")])
    assert check_contract(gray, gray, RULES) == []
    assert [v.describe() for v in check_contract(gray, colour, RULES)] == ["image channels changed: channels 1 -> 3"]
    assert [v.rule for v in check_contract(gray, larger, RULES)] == ["image size changed", "image size changed"]
