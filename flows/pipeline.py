"""The pipeline flow: split -> validation -> baseline -> capacity -> regularization -> schedule -> tuning -> promotion,
one MLflow run tree."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import flow
from prefect.runtime import flow_run

from flows.executors import candidate_cluster
from flows.parameters import takes_config
from flows.promotion import promotion_stage
from flows.stages import (
    baseline_stage,
    capacity_stage,
    regularization_stage,
    schedule_stage,
    split_stage,
    tuning_stage,
)
from flows.tasks import connect, flow_run_ended, prepare_data, prepare_devices
from flows.validation import validation_stage
from training.config import PipelineConfig
from training.method.gate import PromotionResult
from training.method.selection import StageResult
from training.method.strategy import search_scale
from training.runtime.progress import say
from training.runtime.versioning import code_version, config_hash, git_commit, library_versions
from training.tracking.queries import finished_pipeline_like
from training.tracking.records import (
    log_no_change,
    log_pipeline_outcome,
    log_pipeline_start,
    log_resumed_by,
    log_stage_bests,
)
from training.tracking.registration import finished_promotion
from training.tracking.resume import pipeline_to_resume
from training.tracking.stale import close_stale_runs


@dataclass
class PipelineResult:
    experiment: str
    tracking_uri: str
    pipeline_run_id: str
    fingerprint: str
    metric: str
    stages: list[StageResult] = field(default_factory=list)
    seconds: float = 0.0
    promotion: PromotionResult | None = None
    unchanged_since: str | None = None  # set when nothing was trained: the finished run this one repeats
    data_digest: str = ""  # sha256 of every row read (training.data.digest)
    runs_page: str = ""  # the experiment's "Training runs" page in the MLflow UI
    data_validation: str = ""  # the validation stage's status: passed, warn or held


RESUME = (str | None, None, "An unfinished pipeline run (its MLflow run id) to continue: its finished stages are "
                           "reused, the one that failed is done again.")


@flow(name="training-pipeline")
@takes_config(after={"resume": RESUME})
def training_pipeline(config: PipelineConfig, resume: str | None = None) -> PipelineResult:
    """Run every stage on one split, each stage starting from the previous stage's winner.

    Its parameters are the config's fields (flows.parameters), and `resume`. A retry of the same Prefect flow run
    resumes its own pipeline run by itself.
    """
    started = time.perf_counter()
    device = prepare_devices(config)
    # Bad data or a metric the task does not report fails here, before any run exists: nothing half-written.
    prepared = prepare_data(config)
    config.selection(prepared.split.task)
    tracker = connect(config)
    # Runs of flow processes that were killed outright (SIGKILL, a lost machine) still say RUNNING.
    close_stale_runs(tracker, flow_run_ended)
    name = f"pipeline {datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
    libraries = library_versions()
    recorded = config.recorded(mode="json")  # what MLflow holds of the config: no password of a URI
    versions = {"code.version": code_version(), "config.hash": config_hash(recorded),
                "libraries.hash": config_hash(libraries), "git.commit": git_commit() or "unknown"}
    resume = pipeline_to_resume(tracker, resume, str(flow_run.id or "") or None, recorded, versions)
    tags = {"stage": "pipeline", "profile": config.profile, "prefect.flow_run_id": str(flow_run.id or ""),
            **versions, **device.tags()}
    say(f"pipeline started: data {config.data}, profile {config.profile}, experiment {config.experiment}, "
        f"on {device.kind}{' with mixed precision' if device.mixed_precision else ''}")
    with tracker.run(name, tags=tags, resume_id=resume) as run_id:
        if resume:
            say(f"resuming pipeline run {run_id}: finished stages are reused")
            log_resumed_by(tracker, run_id, tags["prefect.flow_run_id"])
        else:
            log_pipeline_start(tracker, run_id, config, libraries)
        split = split_stage(config, run_id)
        # Tonight's data against the champion's: a broken night stops here, before anything trains.
        validation = validation_stage(config, run_id)
        previous = finished_pipeline_like(tracker, run_id, split["data_digest"], versions)
        if previous and not config.force and not resume:
            # Nightly retraining on unchanged data, code and config would only repeat the last run.
            log_no_change(tracker, run_id, previous)
            say(f"no change since pipeline run {previous} (the same rows, digest {split['data_digest'][:16]}, and the "
                "same code and config): nothing trained; pass force=true to train anyway")
            return PipelineResult(experiment=config.experiment, tracking_uri=tracker.tracking_uri,
                                  pipeline_run_id=run_id, fingerprint=split["fingerprint"], metric="",
                                  seconds=time.perf_counter() - started, unchanged_since=previous,
                                  runs_page=tracker.runs_page(), data_digest=split["data_digest"],
                                  data_validation=validation)
        with candidate_cluster(config) as on_cluster:  # the config as is, or pointing at the run's Dask cluster
            stages = [baseline_stage(on_cluster, run_id)]
            # Each stage starts from the previous stage's winner; the search spends what the stages before it
            # suggest it may still find.
            for stage in (capacity_stage, regularization_stage, schedule_stage):
                stages.append(stage(on_cluster, stages[-1].winner.spec, run_id, incoming=stages[-1].winner))
            stages.append(tuning_stage(on_cluster, stages[-1].winner.spec, run_id, incoming=stages[-1].winner,
                                       search_scale=search_scale(stages)))
        log_stage_bests(tracker, run_id, stages)
        promotion = finished_promotion(tracker, run_id, config.model_name) or promotion_stage(
            run_id, config.experiment, config.tracking_uri, config.model_name)
        log_pipeline_outcome(tracker, run_id, stages)
    seconds = time.perf_counter() - started
    say(f"pipeline finished in {seconds:.1f}s")
    return PipelineResult(experiment=config.experiment, tracking_uri=tracker.tracking_uri, pipeline_run_id=run_id,
                          fingerprint=split["fingerprint"], metric=stages[0].metric, stages=stages, seconds=seconds,
                          promotion=promotion, runs_page=tracker.runs_page(), data_digest=split["data_digest"],
                          data_validation=validation)
