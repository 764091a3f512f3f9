"""The data checks' MLflow side: the profile tonight is compared with (the champion's, or a given version's), and
what the validation run records for a person to look at.

A registered version keeps the profile of the data that made it as `data_profile.json` among its served model's
artifacts (training.tracking.models.log_serving_model), so `models:/<name>/<version>` carries it wherever the
model goes; a version registered before the checks existed is read from its pipeline's split run, if that has one.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from training.checks.profile import DataProfile
from training.checks.validation import ValidationReport
from training.method.gate import CHAMPION
from training.report.validation import drift_figure
from training.tracking.registry import Registry
from training.tracking.runs import Tracker

PROFILE_FILE = "data_profile.json"
REPORT_FILE = "data_validation/report.json"
PICTURE_FILE = "data_validation/drift.png"
STATUS_TAG = "data_validation.status"
DRIFTED_TAG = "data_validation.drifted"  # the drifted columns and their statistics: the held version's reason
ACCEPTED_TAG = "data_validation.schema_accepted"  # the schema changes a person accepted


@dataclass(frozen=True)
class Reference:
    """The profile tonight is compared with; `name` says whose it is, `missing` why there is none."""

    profile: DataProfile | None = None
    name: str | None = None
    version: str | None = None
    missing: str | None = None


def reference_profile(tracker: Tracker, model_name: str, version: str | None = None) -> Reference:
    """The profile of `version` of `model_name`, or of its champion; an empty Reference when there is none yet."""
    registry = Registry(tracker.client, model_name)
    if version is not None:
        try:
            found = registry.version(version)
        except MlflowException as error:
            raise ValueError(f"registered model {model_name!r} has no version {version!r}") from error
    else:
        found = registry.version_by_alias(CHAMPION)
        if found is None:
            return Reference(missing=f"{model_name} has no champion yet: tonight's profile is the first")
    name = f"{model_name} version {found.version}"
    profile = version_profile(model_name, str(found.version)) or split_run_profile(tracker,
                                                                                  found.tags.get("pipeline.run_id"))
    if profile is None:
        return Reference(None, name, str(found.version),
                         missing=f"{name} keeps no data profile (registered before the data checks): nothing to "
                                 "compare with")
    return Reference(profile, name, str(found.version))


def version_profile(model_name: str, version: str) -> DataProfile | None:
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{model_name}/{version}/artifacts/{PROFILE_FILE}", dst_path=folder)
        except (MlflowException, OSError):
            return None
        return DataProfile.from_dict(json.loads(Path(path).read_text()))


def split_run_profile(tracker: Tracker, pipeline_run_id: str | None) -> DataProfile | None:
    if not pipeline_run_id:
        return None
    for run in tracker.child_runs(pipeline_run_id):
        if run.data.tags.get("stage") == "split" and tracker.has_artifact(run.info.run_id, PROFILE_FILE):
            return DataProfile.from_dict(tracker.load_json(run.info.run_id, PROFILE_FILE))
    return None


def metric_key(text: str) -> str:
    """A column's name as MLflow takes it in a metric's key (letters, digits, _ - . / and spaces)."""
    return re.sub(r"[^\w\-. /]", "_", text)


def log_validation(tracker: Tracker, run_id: str, report: ValidationReport, profile: DataProfile,
                   pipeline_run_id: str | None) -> None:
    """The report (data_validation/report.json), tonight's profile, a picture of the most drifted columns,
    `drift.<statistic>.<column>` and `drift.share` metrics, and the verdict as tags of the validation run and
    of the pipeline run (which the promotion reads)."""
    tracker.log_dict(run_id, report.to_dict(), REPORT_FILE)
    tracker.log_dict(run_id, profile.to_dict(), PROFILE_FILE)
    metrics = {f"drift.{d.statistic}.{metric_key(d.column)}": d.value for d in report.drifts}
    metrics.update({f"drift.pvalue.{metric_key(d.column)}": d.pvalue for d in report.drifts
                    if d.pvalue is not None})
    metrics.update({f"drift.js.{metric_key(d.column)}": d.js for d in report.drifts if d.js is not None})
    tracker.log_metrics(run_id, {**metrics, "drift.share": report.drift_share,
                                 "contract.violations": len(report.violations)})
    if report.drifts:
        tracker.log_figure(run_id, drift_figure(report), PICTURE_FILE)
    tags = {STATUS_TAG: report.status, "data_validation.reference": report.reference or "none"}
    if report.drifted:
        tags[DRIFTED_TAG] = report.drift_summary()[:5000]
    if report.accepted:
        tags[ACCEPTED_TAG] = "; ".join(v.describe() for v in report.accepted)[:5000]
    tracker.set_tags(run_id, {**tags, "mlflow.note.content": report.message()[:5000]})
    if pipeline_run_id:
        tracker.set_tags(pipeline_run_id, tags)


@dataclass(frozen=True)
class Verdict:
    """What the promotion reads of the night's validation (the pipeline run's tags)."""

    status: str | None = None  # None: no validation stage ran (a pipeline run from before the checks)
    drifted: str | None = None
    schema_accepted: str | None = None


NO_VERDICT = Verdict()


def recorded_verdict(tracker: Tracker, pipeline_run_id: str) -> Verdict:
    tags = tracker.get_run(pipeline_run_id).data.tags
    return Verdict(tags.get(STATUS_TAG), tags.get(DRIFTED_TAG), tags.get(ACCEPTED_TAG))
