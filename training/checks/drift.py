"""Drift: how far tonight's distributions moved from the champion's. Pure; the statistics are scipy's.

One statistic measures, on one scale, every kind of column: the population stability index,
PSI = sum (p - q) ln(p / q) over bins, q the reference's share of rows in a bin and p tonight's. For numbers
(and times) the bins are the reference's deciles; for categories, booleans and the target's classes a bin per
category (one tonight has and the reference has not counts in its own bin), with their Jensen-Shannon distance
(scipy, base 2: 0 the same, 1 nothing shared) reported beside it, a bounded reading of the same move.

A column warns at `warn` (default 0.1) and drifts at `drift` (0.2): PSI's usual reading is under 0.1 stable,
0.1-0.25 moderate, over 0.25 significant. One scale for all kinds keeps one pair of thresholds meaningful: a
category that doubles its share of a quarter of the rows moves PSI about 0.27, a Jensen-Shannon distance 0.22,
but one that doubles from a tenth moves them 0.08 and 0.12.

A small night is judged by a test instead. PSI of two samples of the same distribution is biased up by about
(bins - 1)(1/n + 1/m): 0.1 for two samples of 180 rows over ten deciles, a warning on every column of a night
that did not move. Where tonight has fewer than SMALL_NIGHT rows, a column drifts when scipy's two-sample test
rejects "the same distribution": Kolmogorov-Smirnov against the reference's sample (numbers), chi-square on
the counts (categories, classes), at 0.01 shared among the columns tested (Bonferroni: one column in twenty of a
steady night would fail a test at 0.05 alone); PSI is still reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp

from training.checks.profile import CATEGORY, NUMBER, TIME, ColumnProfile, DataProfile, bin_shares

OK, WARN, DRIFT = "ok", "warn", "drift"
EPSILON = 1e-4  # an empty bin's share, so that ln(p / q) stays finite
SMALL_NIGHT = 1000  # tonight's rows below which a test decides instead of PSI
ALPHA = 0.01  # the family-wise error of a small night's tests: a steady night is held about once in a hundred


@dataclass(frozen=True)
class DriftThresholds:
    warn: float = 0.1
    drift: float = 0.2


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    statistic: str  # "psi": what is measured
    value: float
    status: str  # OK, WARN or DRIFT
    pvalue: float | None = None  # a small night's test: its p-value
    test: str | None = None  # "KS" or "chi-square"
    js: float | None = None  # categories and classes: their Jensen-Shannon distance, reported beside PSI
    reference: dict | None = None  # what a picture draws: bins or categories, reference against tonight
    today: dict | None = None


def psi(reference: list[float], today: np.ndarray | list[float]) -> float:
    """The population stability index of two sets of bin shares."""
    q = np.maximum(np.asarray(reference, dtype="float64"), EPSILON)
    p = np.maximum(np.asarray(today, dtype="float64"), EPSILON)
    return float(np.sum((p - q) * np.log(p / q)))


def js_distance(reference: dict[str, float], today: dict[str, float]) -> float:
    """Jensen-Shannon distance (base 2) between two sets of category shares, over the union of their categories."""
    categories = sorted(set(reference) | set(today))
    q = np.array([reference.get(c, 0.0) for c in categories])
    p = np.array([today.get(c, 0.0) for c in categories])
    if q.sum() == 0 or p.sum() == 0:
        return 0.0 if q.sum() == p.sum() else 1.0
    return float(jensenshannon(p, q, base=2))


def status_of(value: float, thresholds: DriftThresholds) -> str:
    return DRIFT if value >= thresholds.drift else WARN if value >= thresholds.warn else OK


def tested_status(pvalue: float, alpha: float) -> str:
    """A small night's column: drifted when its test rejects at its share of ALPHA."""
    return DRIFT if pvalue < alpha else OK


def numeric_drift(before: ColumnProfile, today_values: np.ndarray, thresholds: DriftThresholds,
                  alpha: float | None = None) -> ColumnDrift:
    """PSI of tonight's values over the reference's bins; with `alpha` (a small night), the KS test decides."""
    shares = bin_shares(today_values, before.edges)
    value = psi(before.fractions, shares)
    status, pvalue, test = status_of(value, thresholds), None, None
    if alpha is not None and len(today_values) > 1 and len(before.sample) > 1:
        pvalue, test = float(ks_2samp(today_values, before.sample).pvalue), "KS"
        status = tested_status(pvalue, alpha)
    return ColumnDrift(before.name, "psi", value, status, pvalue, test,
                       reference={"edges": before.edges, "shares": before.fractions},
                       today={"edges": before.edges, "shares": [float(s) for s in shares]})


def category_drift(column: str, before: dict[str, float], today: dict[str, float], thresholds: DriftThresholds,
                   counts: tuple[int, int] | None = None, alpha: float | None = None) -> ColumnDrift:
    """PSI over the union of the categories (or classes), their Jensen-Shannon distance beside it; with `alpha`
    (a small night) the chi-square test on the counts (`counts`: the rows behind each side's shares) decides."""
    categories = sorted(set(before) | set(today))
    q, p = [before.get(c, 0.0) for c in categories], [today.get(c, 0.0) for c in categories]
    value = psi(q, p)
    status, pvalue, test = status_of(value, thresholds), None, None
    if alpha is not None and counts is not None and len(categories) > 1 and min(counts) > 0:
        table = np.rint([np.asarray(q) * counts[0], np.asarray(p) * counts[1]])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] > 1:
            pvalue, test = float(chi2_contingency(table).pvalue), "chi-square"
            status = tested_status(pvalue, alpha)
    return ColumnDrift(column, "psi", value, status, pvalue, test, js=js_distance(before, today),
                       reference={"shares": before}, today={"shares": today})


def present_rows(column: ColumnProfile) -> int:
    return int(round(column.rows * (1 - column.null_fraction)))


def drift_of(reference: DataProfile, today: DataProfile, values, thresholds: DriftThresholds) -> list[ColumnDrift]:
    """Every column the two have with the same kind, and the target; `values(column)` gives tonight's values of a
    number or time column as float64 (the profile keeps only deciles, and PSI needs tonight's own bins over the
    reference's edges)."""
    compared = [(name, before, today.columns[name]) for name, before in reference.columns.items()
                if name in today.columns and today.columns[name].kind == before.kind  # else the contract's business
                and (before.edges or before.shares or before.kind not in (NUMBER, TIME))]
    tested = len(compared) + (reference.task == today.task)
    alpha = ALPHA / max(tested, 1) if today.rows < SMALL_NIGHT else None
    found = []
    for name, before, now in compared:
        if before.kind in (NUMBER, TIME):
            found.append(numeric_drift(before, values(name), thresholds, alpha))
        elif before.kind == CATEGORY or before.shares:
            found.append(category_drift(name, before.shares, now.shares, thresholds,
                                        (present_rows(before), present_rows(now)), alpha))
    if reference.task == today.task == "classification":
        found.append(category_drift(reference.target, reference.label, today.label, thresholds,
                                    (reference.rows, today.rows), alpha))
    elif reference.task == today.task and reference.label_profile is not None:
        found.append(numeric_drift(reference.label_profile, values(reference.target), thresholds, alpha))
    return found


def drift_share(drifts: list[ColumnDrift]) -> float:
    """The share of the compared columns (the target among them) that drifted."""
    return sum(d.status == DRIFT for d in drifts) / len(drifts) if drifts else 0.0
