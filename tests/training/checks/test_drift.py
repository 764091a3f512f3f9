"""Drift on real nights of the wine table, and PSI's own numbers."""

import math

import numpy as np
import pandas as pd
import pytest

from tests.training.checks.data import doubled_share, wine
from training.checks.drift import DRIFT, OK, DriftThresholds, drift_of, drift_share, js_distance, psi
from training.checks.profile import numeric, profile_table

THRESHOLDS = DriftThresholds()


def drifts(reference: pd.DataFrame, night: pd.DataFrame) -> dict:
    found = drift_of(profile_table(reference, "cultivar", "classification"),
                     profile_table(night, "cultivar", "classification"), lambda c: numeric(night[c].dropna()),
                     THRESHOLDS)
    return {d.column: d for d in found}


def test_psi_and_jensen_shannon_of_known_shares():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.25, 0.75], [0.5, 0.5]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert js_distance({"a": 1.0}, {"b": 1.0}) == 1.0 and js_distance({"a": 0.5, "b": 0.5}, {"b": 0.5, "a": 0.5}) == 0


def test_an_unchanged_night_drifts_nowhere():
    found = drifts(wine(), wine())
    assert len(found) == 15 and {d.status for d in found.values()} == {OK}  # 13 numbers, region, the target
    assert drift_share(list(found.values())) == 0.0


def test_a_column_rescaled_by_a_thousand_drifts_with_psi_and_the_small_nights_ks_test():
    night = wine()
    night["proline"] = night["proline"] * 1000
    found = drifts(wine(), night)
    proline = found["proline"]
    assert proline.status == DRIFT and proline.value > 5 and proline.test == "KS" and proline.pvalue < 1e-50
    assert proline.today["shares"][-1] == 1.0  # every row beyond the reference's top decile
    assert [c for c, d in found.items() if d.status == DRIFT] == ["proline"]
    assert drift_share(list(found.values())) == pytest.approx(1 / 15)


def test_a_category_that_doubled_its_share_drifts():
    found = drifts(wine(), doubled_share(wine(), "region", "east"))
    region = found["region"]
    assert region.status == DRIFT and region.test == "chi-square" and region.pvalue < 0.001
    assert region.value > 0.2 and 0.19 < region.js < 0.21
    assert region.today["shares"]["east"] == pytest.approx(2 * region.reference["shares"]["east"], rel=0.01)


def test_a_steady_small_night_is_not_held_for_the_noise_of_its_psi():
    """Two halves of the same table: PSI over ten deciles is about 0.1 from the sampling alone, the tests see
    no drift."""
    table = wine()
    order = np.random.default_rng(3).permutation(len(table))
    found = drifts(table.iloc[order[:89]], table.iloc[order[89:]])
    assert max(d.value for d in found.values()) > 0.1
    assert {d.status for d in found.values()} == {OK}


def test_a_large_night_is_judged_by_psi_alone():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=5000), "y": rng.integers(0, 2, 5000)})
    same = pd.DataFrame({"x": rng.normal(size=5000), "y": rng.integers(0, 2, 5000)})
    moved = pd.DataFrame({"x": rng.normal(0.5, 1, size=5000), "y": rng.integers(0, 2, 5000)})

    def judged(night):
        (x, _) = drift_of(profile_table(reference, "y", "classification"), profile_table(night, "y", "classification"),
                          lambda c: numeric(night[c]), THRESHOLDS)
        return x

    assert judged(same).status == OK and judged(same).pvalue is None
    assert judged(moved).status == DRIFT and judged(moved).value > 0.2


def test_a_regression_targets_values_drift_like_a_number():
    reference = pd.DataFrame({"x": np.arange(200.0), "y": np.arange(200.0)})
    night = pd.DataFrame({"x": np.arange(200.0), "y": np.arange(200.0) + 1000})
    found = drift_of(profile_table(reference, "y", "regression"), profile_table(night, "y", "regression"),
                     lambda c: numeric(night[c]), THRESHOLDS)
    assert [(d.column, d.status) for d in found] == [("x", OK), ("y", DRIFT)]
