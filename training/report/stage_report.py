"""A stage's comparison in Markdown, for the Prefect UI. Pure."""

from __future__ import annotations

from collections.abc import Callable

from training.config import Selection
from training.method.selection import StageResult, comparison_table, verdict
from training.report.markdown import markdown_table


def stage_report(result: StageResult, selection: Selection, link: Callable[[str], str]) -> str:
    """The stage's comparison in Markdown for people (a Prefect artifact): the verdict, the stage run and each
    candidate linked through `link(run_id)`, best first."""
    table = comparison_table(result.candidates, selection, result.winner.name, result.decisions, result.reused)
    table["variant"] = [f"[{name}]({link(run_id)})" for name, run_id in zip(table["variant"], table["run_id"],
                                                                             strict=True)]
    return (f"# Stage `{result.stage}`\n\n{verdict(result)}\n\nMLflow stage run: [{result.run_id}]"
            f"({link(result.run_id)})\n\n{markdown_table(table.drop(columns=['run_id']))}")
