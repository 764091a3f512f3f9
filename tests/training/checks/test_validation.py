"""The verdict: the contract and drift read through the policy."""

import pytest

from tests.training.checks.data import doubled_share, wine
from training.checks.profile import numeric, profile_table
from training.checks.validation import BLOCKED, HELD, PASSED, WARNED, ValidationPolicy, validate


def verdict(night, **policy):
    reference = profile_table(wine(), "cultivar", "classification")
    return validate(reference, profile_table(night, "cultivar", "classification"),
                    lambda c: numeric(night[c].dropna()), ValidationPolicy(**policy), "wine-model version 1")


def rescaled():
    night = wine()
    night["proline"] = night["proline"] * 1000
    return night


def test_the_first_night_has_nothing_to_compare_with_and_passes_saying_so():
    report = validate(None, profile_table(wine(), "cultivar", "classification"), None, ValidationPolicy(),
                      note="wine-model has no champion yet")
    assert report.status == PASSED and report.message() == "passed: wine-model has no champion yet"


def test_an_unchanged_night_passes():
    report = verdict(wine())
    assert report.status == PASSED and report.message() == "passed: compared with wine-model version 1"


@pytest.mark.parametrize(("policy", "status"), [("warn", WARNED), ("hold", HELD), ("fail", BLOCKED)])
def test_drift_under_each_policy(policy, status):
    report = verdict(rescaled(), on_drift=policy)
    assert report.status == status and [d.column for d in report.drifted] == ["proline"]
    assert report.message().endswith("proline (PSI 8.26, KS p 3.22e-106)")


def test_two_drifted_columns_are_named_most_drifted_first():
    night = doubled_share(rescaled(), "region", "east")
    assert [d.column for d in verdict(night).drifted] == ["proline", "region"]


def test_a_broken_contract_blocks_and_names_every_rule_and_column():
    night = wine().rename(columns={"alcohol": "alcohol_pct"})
    night["magnesium"] = night["magnesium"].astype(str) + " mg"
    report = verdict(night)
    assert report.status == BLOCKED and report.drifts == []  # a broken night is not measured for drift
    assert report.message() == (
        "tonight's data breaks the contract with wine-model version 1: column missing: column 'alcohol': the "
        "champion was trained on it; new column: column 'alcohol_pct': the champion's clients do not send it; type "
        "changed: column 'magnesium': number (float64) -> category (str) (a deliberate schema change: "
        "--accept-schema-change)")


def test_an_accepted_schema_change_passes_and_is_recorded_but_volume_never_is():
    night = wine().rename(columns={"alcohol": "alcohol_pct"})
    report = verdict(night, accept_schema_change=True)
    assert report.status == PASSED and [v.rule for v in report.accepted] == ["column missing", "new column"]
    assert "schema change accepted: column missing: column 'alcohol'" in report.message()
    assert report.to_dict()["accepted"][0]["column"] == "alcohol"
    collapsed = verdict(night.head(50), accept_schema_change=True)
    assert collapsed.status == BLOCKED and [v.rule for v in collapsed.violations] == ["rows collapsed"]
