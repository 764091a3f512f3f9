"""Stage flows. Each runs alone (as a deployment) or as a step of the pipeline, and hands on its winner."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import replace

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.futures import wait

from flows.executors import candidate_task_runner
from flows.tasks import (
    connect,
    prepare_data,
    prepare_devices,
    search_hyperparameters,
    train_candidate,
    tuning_directory,
)
from training.config import PipelineConfig, Selection
from training.data.split import Split
from training.data.tables import DataError
from training.method.grids import BASE, baseline_spec, schedule_grid
from training.method.selection import CandidateResult, StageResult, verdict
from training.method.strategy import (
    Plan,
    baseline_plan,
    next_step,
    plan_capacity,
    plan_regularization,
    plan_schedule,
    plan_tuning,
    reusable_base,
)
from training.model.spec import ModelSpec
from training.report.stage_report import stage_report
from training.runtime.progress import say
from training.runtime.resume_policy import data_changed
from training.tracking.queries import (
    delete_children,
    finished_child,
    load_stage_result,
    recorded_fingerprint,
    unfinished_child,
)
from training.tracking.records import log_search, log_split, log_stage, log_stage_start
from training.tracking.runs import Tracker


@flow(name="split-stage")
def split_stage(config: PipelineConfig, pipeline_run_id: str | None = None) -> dict:
    """Load, validate and split the data; record rows, class balance, fingerprint and preprocessing."""
    started = time.perf_counter()
    prepared = prepare_data(config)
    split, tracker = prepared.split, connect(config)
    if finished := finished_child(tracker, pipeline_run_id, "split"):
        # A resumed pipeline run: its stages were trained on this split, so the data must not have changed.
        if why := data_changed(pipeline_run_id, recorded_fingerprint(tracker, finished), split.fingerprint):
            raise DataError(why)
        say(f"stage split reused: fingerprint {split.fingerprint} as recorded in run {finished}")
        return {"run_id": finished, "fingerprint": split.fingerprint, "data_digest": split.data_digest,
                "rows": split.rows, "task": split.task}
    with tracker.run("split", parent_id=pipeline_run_id, tags={"stage": "split"}) as run_id:
        log_split(tracker, run_id, split, prepared.dataset.target, pipeline_run_id, prepared.profile.to_dict())
    say(f"stage split: {split.dataset_name} ({split.task}), rows {split.rows}, fingerprint {split.fingerprint}, "
        f"{time.perf_counter() - started:.1f}s")
    return {"run_id": run_id, "fingerprint": split.fingerprint, "data_digest": split.data_digest, "rows": split.rows,
            "task": split.task}


PlanSource = Callable[[Split, Selection, Tracker, str], Plan]


def run_candidate_stage(stage: str, make_plan: PlanSource, config: PipelineConfig, pipeline_run_id: str | None,
                        incoming: CandidateResult | None = None) -> StageResult:
    """Train what the stage's plan asks for under one stage run, batch after batch, until it decides; record
    the comparison and the path.

    `make_plan` makes the plan inside the stage run (the tuning stage searches there first). `incoming`, the
    previous stage's winner on the same spec as the plan's base, is reused as the base instead of retrained.
    An unfinished run of this stage under the same pipeline run is resumed, not duplicated.
    """
    started = time.perf_counter()
    device = prepare_devices(config)  # a stage flow may run alone, before any TensorFlow op
    split = prepare_data(config).split
    selection = config.selection(split.task)
    tracker = connect(config)
    if finished := finished_child(tracker, pipeline_run_id, stage):
        # An earlier attempt of this pipeline run finished this stage (same data and config): reuse it.
        result = load_stage_result(tracker, finished)
        say(f"stage {stage} reused from run {finished}: {verdict(result)}")
        return result
    resume_id = unfinished_child(tracker, pipeline_run_id, stage)
    say(f"stage {stage} {'resumed' if resume_id else 'started'} ({config.strategy}): selecting on "
        f"{selection.metric} ({selection.direction})")
    tags = {"stage": stage, "strategy": config.strategy, **device.tags()}
    with tracker.run(stage, parent_id=pipeline_run_id, tags=tags, resume_id=resume_id) as stage_run_id:
        if resume_id:
            # Candidates are retrained on resume (they are cheap next to a search); drop the old attempt's.
            delete_children(tracker, stage_run_id, {"kind": "candidate"})
        plan = make_plan(split, selection, tracker, stage_run_id)
        log_stage_start(tracker, stage_run_id, config.strategy, BASE, selection)
        reused = [replace(incoming, name=BASE)] if incoming is not None else []
        if reused:
            say(f"stage {stage}: the incoming winner is the base, reused from run {incoming.run_id}")
        results = list(reused)
        # The plan is replayed over the results after each batch: it names the next batch, or decides.
        while (step := next_step(plan, results, selection)).batch:
            say(f"stage {stage}: {len(step.batch)} candidate(s): {', '.join(step.batch)}")
            results += train_all(stage, step.batch, split, selection, config, tracker, stage_run_id)
        outcome = step.outcome
        result = StageResult(stage=stage, run_id=stage_run_id, metric=selection.metric,
                             direction=selection.direction, candidates=results,
                             winner=next(r for r in results if r.name == outcome.winner), reference=BASE,
                             seconds=time.perf_counter() - started, story=outcome.story, margin=outcome.margin,
                             decisions=outcome.decisions, reused=tuple(r.name for r in reused))
        log_stage(tracker, stage_run_id, result, selection)
    create_markdown_artifact(key=f"{stage}-comparison", markdown=stage_report(result, selection, tracker.run_link),
                             description=f"{stage}: candidates compared on {selection.metric}")
    say(f"stage {stage} finished in {result.seconds:.1f}s: {verdict(result)}")
    return result


def train_all(stage: str, candidates: dict[str, ModelSpec], split, selection, config: PipelineConfig, tracker,
              stage_run_id: str) -> list[CandidateResult]:
    """Every candidate: in this thread, `max_parallel` at once on threads, or on the workers of a Dask cluster;
    results in the grid's order."""
    def arguments(name: str, spec: ModelSpec) -> dict:
        return {"stage": stage, "name": name, "spec": spec, "split": split, "selection": selection,
                "config": config, "tracker": tracker, "stage_run_id": stage_run_id}

    if config.task_runner == "threads" and config.max_parallel == 1:
        # In this thread: deterministic, and no thread pool to reason about on a CPU machine.
        return [train_candidate(**arguments(name, spec)) for name, spec in candidates.items()]
    # A Dask cluster's workers, or `max_parallel` threads, take one candidate each at a time; the rest queue.
    with candidate_task_runner(config) as runner:
        futures = [runner.submit(train_candidate, arguments(name, spec)) for name, spec in candidates.items()]
        # Let every candidate end before judging any: a failure must not leave siblings training unobserved.
        wait(futures)
        return [future.result() for future in futures]


def fixed(plan: Plan) -> PlanSource:
    return lambda *_: plan


@flow(name="baseline-stage")
def baseline_stage(config: PipelineConfig, pipeline_run_id: str | None = None,
                   base: ModelSpec | None = None) -> StageResult:
    """Train the baseline spec once and diagnose it."""
    return run_candidate_stage("baseline", fixed(baseline_plan(base or baseline_spec(config))), config,
                               pipeline_run_id)


@flow(name="capacity-stage")
def capacity_stage(config: PipelineConfig, base: ModelSpec, pipeline_run_id: str | None = None,
                   incoming: CandidateResult | None = None) -> StageResult:
    """Grow an underfitting base, shrink an overfitting one (adaptive), or sweep the profile's networks (grid)."""
    return run_candidate_stage("capacity", fixed(plan_capacity(base, config)), config, pipeline_run_id,
                               reusable_base(incoming, base, config))


@flow(name="regularization-stage")
def regularization_stage(config: PipelineConfig, base: ModelSpec, pipeline_run_id: str | None = None,
                         incoming: CandidateResult | None = None) -> StageResult:
    """Dropout, weight decay and batch normalization on the capacity winner: only what its diagnosis calls for
    (adaptive), or every variant (grid)."""
    return run_candidate_stage("regularization", fixed(plan_regularization(base, config)), config, pipeline_run_id,
                               reusable_base(incoming, base, config))


@flow(name="schedule-stage")
def schedule_stage(config: PipelineConfig, base: ModelSpec, pipeline_run_id: str | None = None,
                   incoming: CandidateResult | None = None) -> StageResult:
    """Learning-rate decay (exponential, step), ReduceLROnPlateau, EarlyStopping, best-epoch checkpoint."""
    plan = plan_schedule(base, config)
    return run_candidate_stage("schedule", fixed(plan), config, pipeline_run_id,
                               reusable_base(incoming, schedule_grid(base, config)[BASE], config))


@flow(name="tuning-stage")
def tuning_stage(config: PipelineConfig, base: ModelSpec, pipeline_run_id: str | None = None,
                 incoming: CandidateResult | None = None, search_scale: float = 1.0) -> StageResult:
    """Keras Tuner search from the incoming winner; candidates are the retrained best trial and the base.
    `search_scale`: the share of the profile's search budget to spend (training.method.strategy.search_scale)."""

    def search_then_plan(split: Split, selection: Selection, tracker: Tracker, stage_run_id: str) -> Plan:
        directory = tuning_directory(config, pipeline_run_id or stage_run_id)
        summary = search_hyperparameters(config, base, split, selection, tracker, stage_run_id, directory,
                                         search_scale)
        log_search(tracker, stage_run_id, summary, selection, config.tuner, search_scale)
        chosen = {k: v for k, v in summary.best_values.items() if not k.startswith("tuner/")}
        say(f"  tuning: {summary.trials} trial(s), {summary.epochs} epochs, best {selection.metric} "
            f"{summary.best_score:.4f} with {chosen}")
        return plan_tuning(base, summary.best_spec, config, summary.trials)

    result = run_candidate_stage("tuning", search_then_plan, config, pipeline_run_id,
                                 reusable_base(incoming, base, config))
    # A finished search is in MLflow; its project folder only served to resume an interrupted one.
    directory = tuning_directory(config, pipeline_run_id or result.run_id)
    shutil.rmtree(directory, ignore_errors=True)
    with contextlib.suppress(OSError):
        directory.parent.rmdir()
    return result
