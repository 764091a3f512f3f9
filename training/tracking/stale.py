"""Runs whose owner died: a SIGKILLed flow process or a crashed flow run leaves its runs RUNNING forever.
The next pipeline closes those whose owner is certainly gone (judged by training.runtime.ownership)."""

from __future__ import annotations

from collections.abc import Callable

from training.runtime.ownership import machine, owner_gone
from training.runtime.progress import say
from training.tracking.runs import KILLED, Tracker


def close_stale_runs(tracker: Tracker, flow_run_ended: Callable[[str], bool | None]) -> list[str]:
    """Close the RUNNING runs of the experiment whose owner is certainly gone (a SIGKILLed flow process, a
    crashed flow run, an earlier attempt of this flow run); returns their ids. `flow_run_ended` asks the
    orchestrator whether a flow run is over. Call at the start of a pipeline flow run, before it creates runs."""
    here, current, closed = machine(), tracker.flow_run_id, []
    for run in tracker.search("attributes.status = 'RUNNING'"):
        if not owner_gone(run.data.tags, here, flow_run_ended, current):
            continue
        # Judged again on a fresh read: another pipeline may have closed and resumed it meanwhile.
        run = tracker.get_run(run.info.run_id)
        reason = run.info.status == "RUNNING" and owner_gone(run.data.tags, here, flow_run_ended, current)
        if reason:
            close_stale(tracker, run, reason)
            closed.append(run.info.run_id)
            say(f"closed stale run {run.info.run_name} ({run.info.run_id}): {reason}")
    return closed


def close_stale(tracker: Tracker, run, reason: str) -> None:
    """End a RUNNING run whose owner is gone as KILLED, saying why; a version its promotion registered before
    dying is marked `promotion.failed`, like one whose alias move failed."""
    tracker.end_run(run.info.run_id, KILLED, f"closed by a later pipeline run: {reason}")
    if run.data.tags.get("stage") == "promotion":
        for version in tracker.client.search_model_versions(f"run_id = '{run.info.run_id}'"):
            if version.aliases:  # its alias moved: the promotion got that far, the version is what it says
                continue
            tracker.client.set_model_version_tag(version.name, version.version, "promotion.failed",
                                                 f"the promotion run died before finishing: {reason}")
