"""What a person reads of a night's data checks: the verdict table (Markdown for Prefect, plain text for the
command line), the picture of the most drifted columns, and the data section of a model card. Pure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from training.checks.drift import ColumnDrift
from training.checks.profile import DataProfile
from training.checks.validation import ValidationReport
from training.report.markdown import markdown_table
from training.report.plots import drawn_alone

PICTURED = 6  # columns in the drift picture, the most drifted first


def verdict_table(report: ValidationReport) -> pd.DataFrame:
    """One row per broken or accepted rule, then one per compared column: its PSI (with a small night's test and
    its p-value, and a category's Jensen-Shannon distance, where there are) and verdict."""
    rows = [{"column": v.column or "(data)", "check": v.rule, "value": v.detail, "verdict": "refused"}
            for v in report.violations]
    rows += [{"column": v.column or "(data)", "check": v.rule, "value": v.detail, "verdict": "accepted"}
             for v in report.accepted]
    for d in sorted(report.drifts, key=lambda d: -d.value):
        value = (f"{d.value:.3f}" + (f" ({d.test} p {d.pvalue:.3g})" if d.pvalue is not None else "")
                 + (f" (JS {d.js:.3f})" if d.js is not None else ""))
        rows.append({"column": d.column, "check": "drift", "value": value, "verdict": d.status})
    return pd.DataFrame(rows, columns=["column", "check", "value", "verdict"])


def validation_markdown(report: ValidationReport, run_link: str | None = None) -> str:
    """The Prefect artifact: the status, why, and the table."""
    lines = [f"# Data validation: **{report.status}**", "", report.message(), ""]
    if report.reference:
        lines += [f"Compared with {report.reference}; {report.drift_share:.0%} of the compared columns drifted.", ""]
    if report.unreadable:
        lines += [unreadable_line(report), ""]
    table = verdict_table(report)
    if len(table):
        lines.append(markdown_table(table))
    if run_link:
        lines.append(f"Report, drift picture and tonight's profile: [the validation run]({run_link})")
    return "\n".join(lines) + "\n"


def verdict_text(report: ValidationReport) -> str:
    """The same verdict for a terminal: `python -m flows check`."""
    table = verdict_table(report)
    lines = [f"data validation: {report.status}", report.message()]
    if report.unreadable:
        lines.append(unreadable_line(report))
    if len(table):
        widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
        lines.append("  ".join(c.ljust(widths[c]) for c in table.columns))
        lines += ["  ".join(str(row[c]).ljust(widths[c]) for c in table.columns) for _, row in table.iterrows()]
    return "\n".join(lines)


def unreadable_line(report: ValidationReport) -> str:
    return f"{len(report.unreadable)} unreadable image(s) left out: " + "; ".join(report.unreadable[:5])


@drawn_alone
def drift_figure(report: ValidationReport) -> Figure:
    """The most drifted columns, the champion's data against tonight's: a number's share of rows in each of the
    reference's decile bins, a category's (or class's) share of rows."""
    shown = sorted(report.drifts, key=lambda d: -d.value)[:PICTURED]
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    fig = Figure(figsize=(4.4 * columns, 3.2 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, drift in zip(axes.flat, shown, strict=False):
        draw_column(ax, drift)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"data validation: {report.status}, against {report.reference}", fontsize=10)
    fig.tight_layout()
    return fig


def draw_column(ax, drift: ColumnDrift) -> None:
    if "edges" in (drift.reference or {}):
        edges = drift.reference["edges"]
        labels = bin_labels(edges)
        before, after = drift.reference["shares"], drift.today["shares"]
    else:
        shares_before, shares_after = drift.reference["shares"], drift.today["shares"]
        labels = sorted(set(shares_before) | set(shares_after),
                        key=lambda c: -max(shares_before.get(c, 0.0), shares_after.get(c, 0.0)))[:12]
        before = [shares_before.get(c, 0.0) for c in labels]
        after = [shares_after.get(c, 0.0) for c in labels]
    x = np.arange(len(labels))
    ax.bar(x - 0.2, before, width=0.4, label="champion's data")
    ax.bar(x + 0.2, after, width=0.4, label="tonight")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of rows")
    ax.set_title(f"{drift.column}: PSI {drift.value:.2f} ({drift.status})", fontsize=9)
    ax.legend(fontsize=7)


def bin_labels(edges: list[float]) -> list[str]:
    """The reference's decile bins as a person reads them; the outer ones are open (tonight's values beyond the
    reference's range fall in them)."""
    if len(edges) < 2:
        return ["all"]
    inner = [f"{edges[i]:.3g} to {edges[i + 1]:.3g}" for i in range(1, len(edges) - 2)]
    if len(edges) == 2:
        return [f"{edges[0]:.3g} to {edges[1]:.3g}"]
    return [f"< {edges[1]:.3g}", *inner, f">= {edges[-2]:.3g}"]


def profile_summary(profile: dict | None) -> str:
    """A model card's lines on the data profile its version keeps (data_profile.json)."""
    if not profile:
        return "- (no profile)"
    data = DataProfile.from_dict(profile)
    kinds: dict[str, int] = {}
    for column in data.columns.values():
        kinds[column.kind] = kinds.get(column.kind, 0) + 1
    with_nulls = sorted((c for c in data.columns.values() if c.null_fraction > 0), key=lambda c: -c.null_fraction)
    lines = [f"- {data.rows} rows; " + (", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                                        + " column(s)" if kinds else "images")]
    if data.images:
        images = data.images
        lines.append(f"- images read at {images['height']}x{images['width']} ({images['mode']}), channel means "
                     f"{[round(m, 1) for m in images['channel_means']]}, spreads "
                     f"{[round(s, 1) for s in images['channel_spreads']]}; {images.get('unreadable', 0)} unreadable "
                     "left out")
    if with_nulls:
        lines.append("- missing values: " + ", ".join(f"{c.name} {c.null_fraction:.1%}" for c in with_nulls[:5]))
    if data.label:
        shares = ", ".join(f"{k} {v:.1%}" for k, v in list(data.label.items())[:10])
        lines.append(f"- target {data.target!r}: {shares}")
    elif data.label_profile is not None:
        lines.append(f"- target {data.target!r}: {data.label_profile.minimum:.4g} to {data.label_profile.maximum:.4g}")
    return "\n".join(lines)
