"""The verdict on tonight's data: the contract's broken rules and each column's drift, read through the policy.
Pure. One function, `validate`, serves the pipeline's validation stage and `python -m flows check` alike.

Status (the tag `data_validation.status`):
- `passed`: nothing broken, nothing moved beyond the warning level (or no champion to compare with: recorded);
- `warn`: some column moved past the warning level, or drifted under the policy `warn`: recorded, trained as usual;
- `held`: a column drifted under the policy `hold` (the default): trained and evaluated, but registered as
  `challenger`, tagged needs_review, for a person to look at;
- `blocked`: a contract rule broken (a schema change not accepted, too few rows, more nulls or unseen categories),
  or a drift under the policy `fail`: nothing trains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from training.checks.contract import SCHEMA, ContractRules, Violation, check_contract
from training.checks.drift import DRIFT, WARN, ColumnDrift, DriftThresholds, drift_of, drift_share
from training.checks.profile import DataProfile
from training.serving.errors import DataError

PASSED, WARNED, HELD, BLOCKED = "passed", "warn", "held", "blocked"


class DataContractError(DataError):
    """Tonight's data breaks the contract with the champion's (or drifted under on_drift=fail): nothing trains."""

POLICIES = ("warn", "hold", "fail")


@dataclass(frozen=True)
class ValidationPolicy:
    contract: ContractRules = ContractRules()
    thresholds: DriftThresholds = DriftThresholds()
    on_drift: str = "hold"  # one of POLICIES
    accept_schema_change: bool = False


@dataclass
class ValidationReport:
    status: str
    reference: str | None  # what tonight was compared with, e.g. "keras-mlops-model version 3"; None: nothing yet
    violations: list[Violation] = field(default_factory=list)  # the rules that refuse the night
    accepted: list[Violation] = field(default_factory=list)  # schema changes a person accepted
    drifts: list[ColumnDrift] = field(default_factory=list)
    drift_share: float = 0.0
    note: str | None = None  # why nothing was compared (no champion yet, or one that keeps no profile)
    unreadable: list[str] = field(default_factory=list)  # images left out tonight ("path: reason")

    @property
    def blocked(self) -> bool:
        return self.status == BLOCKED

    @property
    def drifted(self) -> list[ColumnDrift]:
        return sorted((d for d in self.drifts if d.status == DRIFT), key=lambda d: -d.value)

    @property
    def schema_changed(self) -> bool:
        return bool(self.accepted)

    def message(self) -> str:
        """Why the night stops, or what was found: one line naming every rule and column."""
        if self.violations:
            return ("tonight's data breaks the contract with " + (self.reference or "the champion") + ": "
                    + "; ".join(v.describe() for v in self.violations)
                    + (" (a deliberate schema change: --accept-schema-change)"
                       if any(v.kind == SCHEMA for v in self.violations) else ""))
        if self.drifted and self.blocked:
            return f"tonight's data drifted from {self.reference} (on_drift=fail refuses it): {self.drift_summary()}"
        if self.drifted:
            return f"drift against {self.reference}: {self.drift_summary()}"
        if self.note:
            return f"{self.status}: {self.note}"
        return f"{self.status}: compared with {self.reference}" + (
            f"; schema change accepted: {'; '.join(v.describe() for v in self.accepted)}" if self.accepted else "")

    def drift_summary(self) -> str:
        """The drifted columns, most drifted first: "proline (PSI 5.21), region (PSI 0.23, JS 0.20)"."""
        return ", ".join(f"{d.column} (PSI {d.value:.2f}"
                         + (f", {d.test} p {d.pvalue:.3g}" if d.pvalue is not None else "")
                         + (f", JS {d.js:.2f}" if d.js is not None else "") + ")" for d in self.drifted)

    def to_dict(self) -> dict:
        return {"status": self.status, "reference": self.reference, "message": self.message(),
                "drift_share": self.drift_share, "violations": [asdict(v) for v in self.violations],
                "accepted": [asdict(v) for v in self.accepted], "columns": [asdict(d) for d in self.drifts],
                "note": self.note, "unreadable": self.unreadable}


def validate(reference: DataProfile | None, today: DataProfile, values: Callable[[str], np.ndarray],
             policy: ValidationPolicy, reference_name: str | None = None, note: str | None = None,
             unreadable: list[str] | tuple[str, ...] = ()) -> ValidationReport:
    """Tonight's profile against the reference's (the champion's data); `values(column)` gives tonight's values of
    a number column (training.checks.drift). Without a reference, `note` says why, and the night passes."""
    if reference is None:
        return ValidationReport(PASSED, reference_name, note=note or "no champion to compare with",
                                unreadable=list(unreadable))
    violations = check_contract(reference, today, policy.contract)
    accepted = [v for v in violations if v.kind == SCHEMA] if policy.accept_schema_change else []
    refused = [v for v in violations if v not in accepted]
    drifts = drift_of(reference, today, values, policy.thresholds) if not refused else []
    report = ValidationReport(BLOCKED if refused else PASSED, reference_name, refused, accepted, drifts,
                              drift_share(drifts), unreadable=list(unreadable))
    if report.blocked:
        return report
    if report.drifted:
        report.status = {"warn": WARNED, "hold": HELD, "fail": BLOCKED}[policy.on_drift]
    elif any(d.status == WARN for d in drifts):
        report.status = WARNED
    return report
