"""Resuming a pipeline run: find the one to continue, read what it recorded, refuse with the reason when the
policy (training.runtime.resume_policy) says its stages cannot be reused."""

from __future__ import annotations

from mlflow import MlflowClient

from training.config import ConfigError
from training.runtime.resume_policy import RecordedPipeline, choose_resume, why_not_resumable, why_not_same_config
from training.tracking.errors import none_if_missing
from training.tracking.runs import Tracker, load_json


def pipeline_run(client: MlflowClient, run_id: str):
    """A pipeline run by id, or a ConfigError that says what the id is not."""
    run = none_if_missing(lambda: client.get_run(run_id))
    if run is None:
        raise ConfigError(f"no MLflow run {run_id!r} in the tracking store")
    if run.data.tags.get("stage") != "pipeline":
        raise ConfigError(f"run {run_id} is a {run.data.tags.get('stage', 'non-pipeline')!r} run, not a pipeline "
                          "run; resume the pipeline run that holds it")
    return run


def recorded_config(tracking_uri: str, run_id: str) -> dict:
    """The config a pipeline run was started with, and its experiment's name (for `run --resume`)."""
    client = MlflowClient(tracking_uri)
    run = pipeline_run(client, run_id)
    return {**load_json(client, run_id, "config.json"),
            "experiment": client.get_experiment(run.info.experiment_id).name}


def why_not_resumable_run(tracker: Tracker, run_id: str, config: dict, versions: dict[str, str]) -> str | None:
    """Why this experiment's pipeline run `run_id` cannot be resumed with `config` and code `versions`, or None.
    The cheap checks come first; its config is read only when they pass."""
    run = pipeline_run(tracker.client, run_id)
    recorded = RecordedPipeline(run_id=run_id, experiment_id=run.info.experiment_id, status=run.info.status,
                                tags=run.data.tags)
    if why := why_not_resumable(recorded, tracker.experiment_id, tracker.experiment_name, versions):
        return why
    stored = tracker.load_json(run_id, "config.json") if tracker.has_artifact(run_id, "config.json") else None
    return why_not_same_config(run_id, stored, config)


def unfinished_pipeline_of(tracker: Tracker, flow_run_id: str | None) -> str | None:
    """The pipeline run an earlier attempt of this Prefect flow run left unfinished (a flow-run retry)."""
    if not flow_run_id:
        return None
    runs = tracker.search(f"tags.stage = 'pipeline' and tags.`prefect.flow_run_id` = '{flow_run_id}'")
    return next((r.info.run_id for r in runs if r.info.status != "FINISHED"), None)


def pipeline_to_resume(tracker: Tracker, explicit: str | None, flow_run_id: str | None, config: dict,
                       versions: dict[str, str]) -> str | None:
    """The pipeline run to continue (training.runtime.resume_policy.choose_resume decides): the one named, else
    the one an earlier attempt of this flow run left unfinished; else None (a new run)."""
    retried = None if explicit else unfinished_pipeline_of(tracker, flow_run_id)
    return choose_resume(explicit, retried, lambda run_id: why_not_resumable_run(tracker, run_id, config, versions))
