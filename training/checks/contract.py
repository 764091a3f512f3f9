"""The data contract: what tonight's data must keep of the champion's for a model of it to replace the champion.
Pure. A broken rule refuses the night before anything trains; each names its column and the numbers.

Schema rules (a person may accept them: `--accept-schema-change`): a feature column missing or new, a column's kind
changed (a number become text), the task or the target changed, the target's classes changed; for images, their
channels or the size they are read at. Unreadable images above a share are refused where they are read
(training.data.image_sources.readable_only), with the files named. Volume and quality rules (never
accepted, fixed at the source): fewer rows than a share of the champion's, a column's null fraction up by more than
a threshold, unseen categories above a share of a column's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.checks.profile import CATEGORY, DataProfile

SCHEMA = "schema"
VOLUME = "volume"
QUALITY = "quality"


@dataclass(frozen=True)
class ContractRules:
    min_rows_share: float = 0.5  # tonight needs at least this share of the champion's rows
    max_null_increase: float = 0.10  # a column's null fraction may grow by at most this much
    max_unseen_share: float = 0.05  # at most this share of a category column's rows may be new categories


@dataclass(frozen=True)
class Violation:
    rule: str  # "column missing", "type changed", ...
    kind: str  # SCHEMA, VOLUME or QUALITY
    column: str | None
    detail: str

    def describe(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"{self.rule}: {where}{self.detail}"


def check_contract(reference: DataProfile, today: DataProfile, rules: ContractRules) -> list[Violation]:
    """Every rule tonight's data breaks against the reference (the champion's data), schema rules first."""
    found: list[Violation] = []
    if today.task != reference.task:
        found.append(Violation("task changed", SCHEMA, None, f"{reference.task} -> {today.task}"))
    if today.target != reference.target:
        found.append(Violation("target changed", SCHEMA, None, f"{reference.target!r} -> {today.target!r}"))
    for name in reference.columns:
        if name not in today.columns:
            found.append(Violation("column missing", SCHEMA, name, "the champion was trained on it"))
    for name in today.columns:
        if name not in reference.columns:
            found.append(Violation("new column", SCHEMA, name, "the champion's clients do not send it"))
    for name, before in reference.columns.items():
        now = today.columns.get(name)
        if now is not None and now.kind != before.kind:
            found.append(Violation("type changed", SCHEMA, name, f"{before.kind} ({before.dtype}) -> {now.kind} "
                                                                 f"({now.dtype})"))
    if reference.images and today.images:
        for key, rule in (("channels", "image channels changed"), ("height", "image size changed"),
                          ("width", "image size changed")):
            if reference.images[key] != today.images[key]:
                found.append(Violation(rule, SCHEMA, None, f"{key} {reference.images[key]} -> {today.images[key]}"))
    elif bool(reference.images) != bool(today.images):
        found.append(Violation("data kind changed", SCHEMA, None,
                               "images -> a table" if reference.images else "a table -> images"))
    if today.task == reference.task == "classification" and set(today.label) != set(reference.label):
        gone, new = sorted(set(reference.label) - set(today.label)), sorted(set(today.label) - set(reference.label))
        what = "; ".join(part for part in (f"gone: {gone}" if gone else "", f"new: {new}" if new else "") if part)
        found.append(Violation("classes changed", SCHEMA, reference.target, what))
    if today.rows < rules.min_rows_share * reference.rows:
        found.append(Violation("rows collapsed", VOLUME, None, f"{today.rows} rows against the champion's "
                                                               f"{reference.rows} (fewer than "
                                                               f"{rules.min_rows_share:.0%})"))
    for name, before in reference.columns.items():
        now = today.columns.get(name)
        if now is None or now.kind != before.kind:
            continue
        if now.null_fraction - before.null_fraction > rules.max_null_increase:
            found.append(Violation("nulls increased", QUALITY, name, f"{before.null_fraction:.1%} -> "
                                                                      f"{now.null_fraction:.1%} missing"))
        if now.kind == CATEGORY and before.complete:
            new = {category: share for category, share in now.shares.items() if category not in before.shares}
            if sum(new.values()) > rules.max_unseen_share:
                examples = sorted(new, key=new.get, reverse=True)[:3]
                found.append(Violation("unseen categories", QUALITY, name,
                                       f"{sum(new.values()):.1%} of the rows hold categories the champion never saw "
                                       f"(e.g. {examples})"))
    return found


def schema_broken(violations: list[Violation]) -> bool:
    return any(v.kind == SCHEMA for v in violations)
