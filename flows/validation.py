"""The validation stage: tonight's data against the champion's, before anything trains (training.checks).

A broken contract (or a drift under `on_drift=fail`) stops the pipeline here: the validation run and the pipeline
run end FAILED, the flow run Failed (so the failure notice fires), nothing is trained or registered. A drift under
`hold` is recorded on the pipeline run, and the promotion registers the night's model as `challenger`.
`python -m flows check` runs the same judgement without recording it.
"""

from __future__ import annotations

import time

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.tasks import PreparedData, connect, prepare_data
from training.checks.validation import DataContractError, ValidationReport, validate
from training.config import PipelineConfig
from training.report.validation import validation_markdown
from training.runtime.progress import say
from training.tracking.queries import finished_child
from training.tracking.runs import Tracker
from training.tracking.validation import STATUS_TAG, log_validation, reference_profile


def judge(config: PipelineConfig, tracker: Tracker, prepared: PreparedData,
          version: str | None = None) -> ValidationReport:
    """Tonight's prepared data against the profile of `version` of the config's model, or of its champion."""
    reference = reference_profile(tracker, config.model_name, version)
    return validate(reference.profile, prepared.profile, prepared.values, config.validation_policy, reference.name,
                    reference.missing, prepared.dataset.unreadable)


@flow(name="validation-stage")
def validation_stage(config: PipelineConfig, pipeline_run_id: str | None = None) -> str:
    """Check tonight's data against the champion's; record the verdict; refuse a broken night. Returns the
    status: passed, warn or held (blocked raises DataContractError)."""
    started = time.perf_counter()
    prepared = prepare_data(config)
    tracker = connect(config)
    if finished := finished_child(tracker, pipeline_run_id, "validation"):
        status = tracker.get_run(finished).data.tags.get(STATUS_TAG, "passed")
        say(f"stage validation reused from run {finished}: {status}")
        return status
    report = judge(config, tracker, prepared)
    with tracker.run("validation", parent_id=pipeline_run_id, tags={"stage": "validation"}) as run_id:
        log_validation(tracker, run_id, report, prepared.profile, pipeline_run_id)
        create_markdown_artifact(key="data-validation", markdown=validation_markdown(report, tracker.run_link(run_id)),
                                 description=f"tonight's data: {report.status}")
        if report.blocked:
            raise DataContractError(f"{prepared.split.source}: {report.message()}")
    say(f"stage validation: {report.message()} ({time.perf_counter() - started:.1f}s)")
    return report.status
