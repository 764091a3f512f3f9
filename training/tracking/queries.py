"""Reading the run tree back: a pipeline run's stages and candidates, what an earlier attempt finished, and
earlier pipeline runs to compare with."""

from __future__ import annotations

from training.method.gate import Candidate
from training.method.selection import StageResult, stage_result_from_dict
from training.tracking.runs import Tracker


def finished_child(tracker: Tracker, parent_id: str | None, stage: str) -> str | None:
    """The finished run of `stage` under `parent_id` (an earlier attempt of a resumed pipeline run)."""
    if not parent_id:
        return None
    runs = [r for r in tracker.child_runs(parent_id)
            if r.data.tags.get("stage") == stage and r.info.status == "FINISHED"]
    return max(runs, key=lambda r: r.info.start_time).info.run_id if runs else None


def unfinished_child(tracker: Tracker, parent_id: str | None, stage: str) -> str | None:
    """The run of `stage` under `parent_id` that an earlier attempt left unfinished, if any."""
    if not parent_id:
        return None
    for run in tracker.child_runs(parent_id):
        if run.data.tags.get("stage") == stage and run.info.status != "FINISHED":
            return run.info.run_id
    return None


def delete_children(tracker: Tracker, parent_id: str, tags: dict[str, str], unfinished_only: bool = False) -> int:
    """Soft-delete children of `parent_id` with these tags (only those that did not finish, if asked):
    what an earlier, interrupted attempt left, before it is done again."""
    runs = [r for r in tracker.child_runs(parent_id) if all(r.data.tags.get(k) == v for k, v in tags.items())
            and not (unfinished_only and r.info.status == "FINISHED")]
    for run in runs:
        tracker.client.delete_run(run.info.run_id)
    return len(runs)


def recorded_fingerprint(tracker: Tracker, run_id: str) -> str | None:
    """The data fingerprint a run recorded (the split its stages were trained on)."""
    return tracker.get_run(run_id).data.tags.get("data.fingerprint")


def load_stage_result(tracker: Tracker, stage_run_id: str) -> StageResult:
    return stage_result_from_dict(tracker.load_json(stage_run_id, "stage/result.json"))


def split_summary(tracker: Tracker, pipeline_run_id: str) -> dict:
    """What the split stage of a pipeline run recorded (rows, class balance, data set, fingerprint)."""
    split = next((r for r in tracker.child_runs(pipeline_run_id)
                  if r.data.tags.get("stage") == "split" and r.info.status == "FINISHED"), None)
    if split is None:
        return {}
    summary = tracker.load_json(split.info.run_id, "split/summary.json")
    return {**summary, **{k: split.data.params.get(k) for k in ("dataset", "source", "task", "fingerprint")}}


def pipeline_candidates(tracker: Tracker, pipeline_run_id: str, metric: str) -> list[Candidate]:
    """Every finished candidate run (kind=candidate) of every stage of a pipeline run, scored on `metric`."""
    out = []
    for stage in sorted(tracker.child_runs(pipeline_run_id), key=lambda r: r.info.start_time):
        # Oldest first, so that among equal models the stage where it first appeared is credited.
        for run in sorted(tracker.child_runs(stage.info.run_id), key=lambda r: r.info.start_time):
            tags, metrics = run.data.tags, run.data.metrics
            if tags.get("kind") == "candidate" and run.info.status == "FINISHED" and tags.get("model.uri"):
                out.append(Candidate(run_id=run.info.run_id, stage=tags.get("stage", ""),
                                     variant=tags.get("variant", ""),
                                     score=metrics.get(f"model_{metric}", float("nan")),
                                     param_count=int(metrics.get("param_count", 0)), model_uri=tags["model.uri"],
                                     fingerprint=tags.get("data.fingerprint", "")))
    return out


def finished_pipeline_like(tracker: Tracker, current_run_id: str, data_digest: str,
                           versions: dict[str, str]) -> str | None:
    """The latest finished, trained pipeline run on the same data (the content digest of every row read), with the
    same code and config."""
    query = " and ".join([
        "tags.stage = 'pipeline'", "attributes.status = 'FINISHED'", "tags.outcome = 'trained'",
        f"tags.`data.digest` = '{data_digest}'",
        *(f"tags.`{key}` = '{value}'" for key, value in versions.items() if key != "git.commit")])
    runs = tracker.search(query, order_by=["attributes.start_time DESC"], max_results=2)
    return next((r.info.run_id for r in runs if r.info.run_id != current_run_id), None)


def latest_pipeline_run(tracker: Tracker) -> str | None:
    """The latest finished pipeline run that trained (a 'no change' night has no candidates)."""
    runs = tracker.search("tags.stage = 'pipeline' and attributes.status = 'FINISHED' and tags.outcome = 'trained'",
                          order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0].info.run_id if runs else None

