"""Every MLflow call of the project: tracking URI, run tree, params, per-epoch metrics, plots, models.

The run tree is pipeline run -> one stage run per stage -> one candidate run per variant or trial.
Pipeline and stage runs are created through the client with explicit ids, so no fluent "active run"
is ever left open in a thread; candidate runs name their parent explicitly, which also works from
another thread or process. Every run is ended on the way out, FAILED when an exception passes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import keras
import mlflow
import mlflow.keras
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import DatasetInput, InputTag, Metric, RunStatus
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import Schema, TensorSpec
from mlflow.types.schema import AnyType, ColSpec
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT, MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from training import plots
from training.config import ConfigError, Selection, redact_uri
from training.fit import FitResult
from training.ownership import OWNER_FLOW_RUN, OWNER_PROCESS, this_process
from training.preprocessing import Preprocessor
from training.promotion import Candidate
from training.registry import not_found
from training.selection import StageResult, comparison_table, stage_result_from_dict, stage_result_to_dict, verdict
from training.split import Split
from training.versioning import WHERE_IT_RUNS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Packages a served model needs; given explicitly because inferring them re-imports TensorFlow in a
# subprocess and costs 6-9 s per logged model with MLflow 3.17; explicit ones cost ~0.1 s.
MODEL_REQUIREMENTS = ("tensorflow", "keras", "numpy", "pandas")


def project_root() -> Path:
    """The checkout when the package is installed from one (editable), else the working directory."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd()


def default_tracking_uri() -> str:
    return f"sqlite:///{project_root() / 'mlruns' / 'mlflow.db'}"


def resolve_tracking_uri(explicit: str | None = None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the local store under mlruns/."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def ui_command(tracking_uri: str) -> str:
    if tracking_uri.startswith(("http://", "https://")):
        return f"open {tracking_uri}"
    return f"make ui   (or: mlflow ui --backend-store-uri {tracking_uri} --host 127.0.0.1 --port 5000)"


def _local_artifact_root(tracking_uri: str) -> Path | None:
    """For a local SQLite store, artifacts go beside the database, wherever the command was started."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "experiment"


def model_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


class Tracker:
    """One experiment on one tracking server."""

    def __init__(self, tracking_uri: str, experiment: str):
        self.tracking_uri = tracking_uri
        if artifacts := _local_artifact_root(tracking_uri):
            artifacts.mkdir(parents=True, exist_ok=True)
        # The fluent API (used for model logging) reads the global URI; set it to the same store.
        mlflow.set_tracking_uri(tracking_uri)
        self.client = MlflowClient(tracking_uri)
        self.experiment_name = experiment
        self.experiment_id = self._experiment_id(experiment)
        # The Prefect flow run this process works for (set by the flows); recorded on every run it creates.
        self.flow_run_id: str | None = None

    def __reduce__(self):
        # A candidate on a Dask worker or a trial in a tuner worker process gets the tracker by value: it
        # reconnects there to the same store and experiment (a client's store connections cannot travel).
        return (_reconnect, (self.tracking_uri, self.experiment_name, self.flow_run_id))

    def owner_tags(self) -> dict[str, str]:
        """Who owns a run while it is RUNNING (training.ownership): judged later if it never ends."""
        tags = {OWNER_PROCESS: this_process()}
        if self.flow_run_id:
            tags[OWNER_FLOW_RUN] = self.flow_run_id
        return tags

    def _experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                self.client.restore_experiment(found.experiment_id)
            return found.experiment_id
        location = None
        if root := _local_artifact_root(self.tracking_uri):
            location = (root / _slug(name)).as_uri()
        try:
            # A training experiment: the UI then opens on its runs, not on the GenAI overview.
            return self.client.create_experiment(name, artifact_location=location,
                                                 tags={"mlflow.experimentKind": "custom_model_development"})
        except mlflow.exceptions.MlflowException:
            # Another process created it between our lookup and create.
            return self.client.get_experiment_by_name(name).experiment_id

    def run_link(self, run_id: str) -> str:
        """Where a person opens the run: the tracking server, or `make ui` on the local store."""
        remote = self.tracking_uri.startswith(("http://", "https://"))
        base = redact_uri(self.tracking_uri) if remote else "http://127.0.0.1:5000"
        return f"{base.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{run_id}"

    # --- runs -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def run(self, name: str, parent_id: str | None = None, tags: dict[str, str] | None = None,
            resume_id: str | None = None) -> Iterator[str]:
        """A client-managed run; yields its id and always ends it (FAILED or KILLED when interrupted).

        With `resume_id`, an unfinished run of an earlier attempt is reopened instead of a new one made.
        """
        if resume_id:
            run_id = resume_id
            self.set_tags(run_id, self.owner_tags())
            self.client.update_run(run_id, status=RunStatus.to_string(RunStatus.RUNNING))
        else:
            all_tags = {MLFLOW_RUN_NAME: name, **(tags or {}), **self.owner_tags()}
            if parent_id:
                all_tags[MLFLOW_PARENT_RUN_ID] = parent_id
            run_id = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags).info.run_id
        try:
            yield run_id
        except Exception:
            self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        except BaseException:
            # Not an error of the run but an interruption: Ctrl-C, SystemExit, or the signal a Prefect worker
            # sends to cancel a flow run (Prefect raises it as a BaseException, TerminationSignal).
            self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))
            raise
        self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))

    @contextlib.contextmanager
    def candidate_run(self, name: str, stage_run_id: str, tags: dict[str, str]) -> Iterator[str]:
        """A candidate run, active in this thread's fluent stack so that `log_model` links to it."""
        active = mlflow.start_run(experiment_id=self.experiment_id, run_name=name, parent_run_id=stage_run_id,
                                  tags={**tags, **self.owner_tags()})
        try:
            yield active.info.run_id
        except Exception:
            mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
            raise
        except BaseException:  # interrupted, as in `run`
            mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
            raise
        mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))

    # --- logging ----------------------------------------------------------------------------------

    def log_params(self, run_id: str, params: dict) -> None:
        self.client.log_batch(run_id, params=[mlflow.entities.Param(k, str(v)) for k, v in params.items()])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
        )

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.client.log_batch(run_id, tags=[mlflow.entities.RunTag(k, str(v)) for k, v in tags.items()])

    def log_dict(self, run_id: str, data: dict, path: str) -> None:
        self.client.log_dict(run_id, data, path)

    def log_text(self, run_id: str, text: str, path: str) -> None:
        self.client.log_text(run_id, text, path)

    def log_figure(self, run_id: str, figure, path: str) -> None:
        with plots.RENDER_LOCK:  # saving draws the figure again
            self.client.log_figure(run_id, figure, path)

    def log_table(self, run_id: str, table: pd.DataFrame, stem: str) -> None:
        """A comparison table as CSV (for tools) and Markdown (for people)."""
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        self.log_text(run_id, buffer.getvalue(), f"{stem}.csv")
        self.log_text(run_id, markdown_table(table), f"{stem}.md")

    def log_dataset(self, run_id: str, frame: pd.DataFrame, name: str, source: str, target: str,
                    context: str, digest: str) -> None:
        with warnings.catch_warnings():
            # A bundled set's source is a name, not a URI, and its integer labels make MLflow hint about
            # missing values in integer columns; neither says anything about this data set.
            warnings.filterwarnings("ignore", message=".*dataset source can be interpreted.*")
            warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")
            dataset = mlflow.data.from_pandas(frame, source=source, targets=target, name=name, digest=digest)
            entity = dataset._to_mlflow_entity()
        self.client.log_inputs(run_id, datasets=[
            DatasetInput(entity, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)])
        ])

    def epoch_logger(self, run_id: str) -> EpochLogger:
        return EpochLogger(self.client, run_id)

    def log_keras_model(self, model: keras.Model, preprocessor: Preprocessor) -> str:
        """Log the model (keras flavor, signature, explicit requirements) and its preprocessing, in the
        active candidate run; returns the model URI (`models:/m-...` in MLflow 3)."""
        # The signature comes from the model's shapes: inferring it from a prediction would trace a new
        # predict function for every candidate.
        signature = ModelSignature(
            inputs=Schema([TensorSpec(np.dtype("float32"), (-1, *model.input_shape[1:]), "features")]),
            outputs=Schema([TensorSpec(np.dtype("float32"), (-1, *model.output_shape[1:]))]),
        )
        info = mlflow.keras.log_model(model, name="model", signature=signature,
                                      pip_requirements=model_requirements())
        mlflow.log_dict(preprocessor.to_dict(), "preprocessing/preprocessor.json")
        return info.model_uri

    # --- what each level records ------------------------------------------------------------------

    def log_split(self, run_id: str, split: Split, source_frame: pd.DataFrame, target: str) -> None:
        """Row counts, class balance, fingerprint, imputation counts, the data set, the preprocessing."""
        self.log_params(run_id, {"dataset": split.dataset_name, "source": split.source, "task": split.task,
                                 "target": target, "n_features": split.n_features,
                                 "n_classes": split.n_classes, "fingerprint": split.fingerprint})
        metrics = {f"rows_{name}": n for name, n in split.rows.items()}
        metrics["rows_dropped_missing_target"] = split.dropped_missing_target
        for name, counts in split.imputed.items():
            metrics[f"imputed_values_{name}"] = sum(counts.values())
        self.log_metrics(run_id, metrics)
        self.set_tags(run_id, {"data.fingerprint": split.fingerprint})
        self.log_dict(run_id, {"rows": split.rows, "class_balance": split.class_balance(),
                               "imputed": split.imputed, "dropped_missing_target": split.dropped_missing_target,
                               "feature_names": split.preprocessor.feature_names}, "split/summary.json")
        self.log_dict(run_id, split.preprocessor.to_dict(), "preprocessing/preprocessor.json")
        self.log_dataset(run_id, source_frame, name=split.dataset_name, source=split.source, target=target,
                         context="source", digest=split.fingerprint)

    def log_candidate(self, run_id: str, result: FitResult, split: Split, selection: Selection,
                      title: str) -> str:
        """Scores, diagnosis, learning curves and the model of a trained candidate; returns the model URI."""
        diagnosis = result.diagnosis
        metrics = {f"model_{k}": v for k, v in result.val_scores.items()}
        metrics.update(fit_seconds=result.fit_seconds, epochs_run=result.epochs_run,
                       param_count=result.param_count, best_epoch=diagnosis.best_epoch,
                       generalization_gap=diagnosis.gap)
        metrics[f"best_{selection.metric}"] = diagnosis.best_score
        self.log_metrics(run_id, metrics)
        self.set_tags(run_id, {**diagnosis.tags(), "data.fingerprint": split.fingerprint,
                               "selection.metric": selection.metric, "selection.direction": selection.direction})
        self.log_figure(run_id, plots.learning_curves(result.history, selection.metric, title,
                                                      diagnosis.best_epoch), "plots/learning_curves.png")
        model_uri = self.log_keras_model(result.model, split.preprocessor)
        self.set_tags(run_id, {"model.uri": model_uri})
        return model_uri

    def log_trial(self, run_id: str, result: FitResult | None, selection: Selection) -> None:
        """A tuner trial: its score and diagnosis (its curves came through the epoch logger)."""
        if result is None:
            return
        self.log_metrics(run_id, {**{f"model_{k}": v for k, v in result.val_scores.items()},
                                  "fit_seconds": result.fit_seconds, "epochs_run": result.epochs_run,
                                  "param_count": result.param_count, f"best_{selection.metric}":
                                  result.diagnosis.best_score})
        self.set_tags(run_id, result.diagnosis.tags())

    def log_search(self, run_id: str, summary, selection: Selection, tuner: str) -> None:
        """The search summary (a tuning.tuner.SearchSummary) on the tuning stage run: trials, epochs spent,
        best hyperparameters, score per trial."""
        self.log_metrics(run_id, {"trials": summary.trials, "trial_epochs": summary.epochs,
                                  f"best_trial_{selection.metric}": summary.best_score})
        self.log_dict(run_id, {"tuner": tuner, "trials": summary.trials, "epochs": summary.epochs,
                               "best_hyperparameters": summary.best_values, "best_score": summary.best_score,
                               "scores": summary.scores}, "search/summary.json")
        self.log_figure(run_id, plots.score_per_trial(summary.scores, selection.metric, selection.direction,
                                                           f"{tuner} search"),
                        "plots/score_per_trial.png")

    def log_stage(self, run_id: str, result: StageResult, selection: Selection) -> None:
        """The stage's comparison table, its overlaid validation curves, and which variant won and why."""
        winner = result.winner
        self.log_metrics(run_id, {f"best_{selection.metric}": winner.score, "candidates": len(result.candidates),
                                  "stage_seconds": result.seconds})
        self.set_tags(run_id, {"winner": winner.name, "winner.run_id": winner.run_id,
                               "winner.model_uri": winner.model_uri, "winner.regime": winner.diagnosis.regime,
                               "verdict": verdict(result), "mlflow.note.content": verdict(result)})
        self.log_table(run_id, comparison_table(result.candidates, selection, winner.name), "comparison")
        self.log_dict(run_id, stage_result_to_dict(result), "stage/result.json")  # reused by a resume
        self.log_figure(run_id, plots.overlaid_validation_curves(
            {c.name: c.history for c in result.candidates}, selection.metric, f"{result.stage}: validation"),
            "plots/validation_curves.png")

    def log_serving_model(self, run_id: str, network: keras.Model, preprocessor: Preprocessor,
                          example: pd.DataFrame, output: pd.DataFrame) -> str:
        """Log in `run_id` the pyfunc that takes raw rows (network + preprocessing); returns its URI."""
        import training.serving_model as serving

        # Numeric inputs are declared as Any: a column of whole numbers in one file may have gaps (floats)
        # in the next, and MLflow refuses to convert int64 to float64. predict_frame checks the values.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")  # declared Any below
            inferred = infer_signature(example, output)
        signature = ModelSignature(
            inputs=Schema([ColSpec(AnyType(), c.name, required=False) if c.name in preprocessor.numeric else c
                           for c in inferred.inputs.inputs]),
            outputs=inferred.outputs)
        with tempfile.TemporaryDirectory() as folder, self.active(run_id), warnings.catch_warnings():
            network_path = Path(folder) / "network.keras"
            network.save(network_path)
            preprocessor_path = preprocessor.save(Path(folder) / "preprocessor.json")
            warnings.filterwarnings("ignore", message=".*input example was not provided.*")
            info = mlflow.pyfunc.log_model(
                name="serving_model", python_model=serving.__file__,
                artifacts={"network": str(network_path), "preprocessor": str(preprocessor_path)},
                signature=signature, pip_requirements=model_requirements())
        return info.model_uri

    @contextlib.contextmanager
    def active(self, run_id: str) -> Iterator[None]:
        """Make a client-managed run the fluent active run of this thread for a moment (for log_model),
        without letting the fluent API end it: its status stays with whoever owns the run."""
        mlflow.start_run(run_id=run_id)
        try:
            yield
        finally:
            # Pop it from the fluent stack and put back the status it had (RUNNING).
            mlflow.end_run(status=RunStatus.to_string(RunStatus.RUNNING))

    def load_json(self, run_id: str, path: str) -> dict:
        return load_json(self.client, run_id, path)

    def split_summary(self, pipeline_run_id: str) -> dict:
        """What the split stage of a pipeline run recorded (rows, class balance, data set, fingerprint)."""
        split = next((r for r in self.child_runs(pipeline_run_id)
                      if r.data.tags.get("stage") == "split" and r.info.status == "FINISHED"), None)
        if split is None:
            return {}
        summary = self.load_json(split.info.run_id, "split/summary.json")
        return {**summary, **{k: split.data.params.get(k) for k in ("dataset", "source", "task", "fingerprint")}}

    def pipeline_candidates(self, pipeline_run_id: str, metric: str) -> list[Candidate]:
        """Every finished candidate run (kind=candidate) of every stage of a pipeline run, scored on `metric`."""
        out = []
        for stage in sorted(self.child_runs(pipeline_run_id), key=lambda r: r.info.start_time):
            # Oldest first, so that among equal models the stage where it first appeared is credited.
            for run in sorted(self.child_runs(stage.info.run_id), key=lambda r: r.info.start_time):
                tags, metrics = run.data.tags, run.data.metrics
                if tags.get("kind") == "candidate" and run.info.status == "FINISHED" and tags.get("model.uri"):
                    out.append(Candidate(run_id=run.info.run_id, stage=tags.get("stage", ""),
                                         variant=tags.get("variant", ""),
                                         score=metrics.get(f"model_{metric}", float("nan")),
                                         param_count=int(metrics.get("param_count", 0)), model_uri=tags["model.uri"],
                                         fingerprint=tags.get("data.fingerprint", "")))
        return out

    def finished_pipeline_like(self, current_run_id: str, fingerprint: str, versions: dict[str, str]) -> str | None:
        """The latest finished, trained pipeline run on the same data with the same code and config."""
        query = " and ".join([
            "tags.stage = 'pipeline'", "attributes.status = 'FINISHED'", "tags.outcome = 'trained'",
            f"tags.`data.fingerprint` = '{fingerprint}'",
            *(f"tags.`{key}` = '{value}'" for key, value in versions.items() if key != "git.commit")])
        runs = self.client.search_runs([self.experiment_id], query, order_by=["attributes.start_time DESC"],
                                       max_results=2)
        return next((r.info.run_id for r in runs if r.info.run_id != current_run_id), None)

    def latest_pipeline_run(self) -> str | None:
        """The latest finished pipeline run that trained (a 'no change' night has no candidates)."""
        runs = self.client.search_runs([self.experiment_id], "tags.stage = 'pipeline' and attributes.status = "
                                       "'FINISHED' and tags.outcome = 'trained'",
                                       order_by=["attributes.start_time DESC"], max_results=1)
        return runs[0].info.run_id if runs else None

    def get_run(self, run_id: str):
        return self.client.get_run(run_id)

    @staticmethod
    def load_network(model_uri: str) -> keras.Model:
        return mlflow.keras.load_model(model_uri)

    @staticmethod
    def load_serving_model(model_uri: str):
        """The registered pyfunc (raw rows in, predictions out)."""
        return mlflow.pyfunc.load_model(model_uri)

    # --- runs whose owner died ------------------------------------------------------------------

    def running_runs(self) -> list:
        return self._search_all("attributes.status = 'RUNNING'")

    def close_stale(self, run, reason: str) -> None:
        """End a RUNNING run whose owner is gone as KILLED, saying why; a version its promotion registered
        before dying is marked `promotion.failed`, like one whose alias move failed."""
        run_id = run.info.run_id
        self.set_tags(run_id, {"closed.reason": f"closed by a later pipeline run: {reason}"[:5000]})
        self.client.set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))
        if run.data.tags.get("stage") == "promotion":
            for version in self.client.search_model_versions(f"run_id = '{run_id}'"):
                if version.aliases:  # its alias moved: the promotion got that far, the version is what it says
                    continue
                self.client.set_model_version_tag(version.name, version.version, "promotion.failed",
                                                  f"the promotion run died before finishing: {reason}")

    # --- reading back -----------------------------------------------------------------------------

    def finished_child(self, parent_id: str | None, stage: str) -> str | None:
        """The finished run of `stage` under `parent_id` (an earlier attempt of a resumed pipeline run)."""
        if not parent_id:
            return None
        runs = [r for r in self.child_runs(parent_id)
                if r.data.tags.get("stage") == stage and r.info.status == "FINISHED"]
        return max(runs, key=lambda r: r.info.start_time).info.run_id if runs else None

    def load_stage_result(self, stage_run_id: str) -> StageResult:
        return stage_result_from_dict(self.load_json(stage_run_id, "stage/result.json"))

    def unfinished_pipeline_of(self, flow_run_id: str | None) -> str | None:
        """The pipeline run an earlier attempt of this Prefect flow run left unfinished (a flow-run retry)."""
        if not flow_run_id:
            return None
        runs = self.client.search_runs([self.experiment_id], "tags.stage = 'pipeline' and "
                                       f"tags.`prefect.flow_run_id` = '{flow_run_id}'")
        return next((r.info.run_id for r in runs if r.info.status != "FINISHED"), None)

    def check_resumable(self, run_id: str, config: dict, versions: dict[str, str] | None = None) -> None:
        """Refuse, with the reason, to resume anything but an unfinished pipeline run of this experiment
        with the same config, code and libraries (the stages it reuses were trained with those)."""
        run = pipeline_run(self.client, run_id)
        if run.info.experiment_id != self.experiment_id:
            raise ConfigError(f"pipeline run {run_id} belongs to another experiment (id {run.info.experiment_id}), "
                              f"not to {self.experiment_name!r}")
        if run.info.status == "FINISHED":
            raise ConfigError(f"pipeline run {run_id} finished; there is nothing to resume (start a new run)")
        if run.info.status == "RUNNING":
            raise ConfigError(f"pipeline run {run_id} is still RUNNING (its owner is alive or cannot be judged: "
                              f"{run.data.tags.get(OWNER_PROCESS, 'unknown')}); stop it before resuming")
        for key in ("code.version", "libraries.hash"):
            recorded_version, current = run.data.tags.get(key), (versions or {}).get(key)
            if recorded_version and current and recorded_version != current:
                raise ConfigError(f"pipeline run {run_id} ran other code or libraries ({key} {recorded_version} "
                                  f"-> {current}); its stages cannot be reused: start a new run")
        if "config.json" not in {a.path for a in self.client.list_artifacts(run_id)}:
            raise ConfigError(f"pipeline run {run_id} failed before recording its config; start a new run")
        recorded = self.load_json(run_id, "config.json")
        changed = [f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in config.items()
                   if k not in RESUME_MAY_DIFFER and recorded.get(k) != v]
        if changed:
            raise ConfigError(f"pipeline run {run_id} was started with another config ({'; '.join(changed)}); "
                              "resume it with its own config (python -m flows run --resume RUN) or start a new run")

    def unfinished_child(self, parent_id: str | None, stage: str) -> str | None:
        """The run of `stage` under `parent_id` that an earlier attempt left unfinished, if any."""
        if not parent_id:
            return None
        for run in self.child_runs(parent_id):
            if run.data.tags.get("stage") == stage and run.info.status != "FINISHED":
                return run.info.run_id
        return None

    def delete_children(self, parent_id: str, tags: dict[str, str], unfinished_only: bool = False) -> int:
        """Soft-delete children of `parent_id` with these tags (only those that did not finish, if asked):
        what an earlier, interrupted attempt left, before it is done again."""
        runs = [r for r in self.child_runs(parent_id) if all(r.data.tags.get(k) == v for k, v in tags.items())
                and not (unfinished_only and r.info.status == "FINISHED")]
        for run in runs:
            self.client.delete_run(run.info.run_id)
        return len(runs)

    def child_runs(self, parent_id: str) -> list:
        return self._search_all(f"tags.{MLFLOW_PARENT_RUN_ID} = '{parent_id}'")

    def _search_all(self, query: str) -> list:
        runs, token = [], None
        while True:  # paged: a long Hyperband search has more trials than one page holds
            page = self.client.search_runs([self.experiment_id], query, max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs


def _reconnect(tracking_uri: str, experiment: str, flow_run_id: str | None) -> Tracker:
    tracker = Tracker(tracking_uri, experiment)
    tracker.flow_run_id = flow_run_id
    return tracker


# What a resumed run may be given anew: where the store is, whether to train regardless of "no change", and
# where the work runs (a resumed run may go to another cluster, or continue its search with more workers).
RESUME_MAY_DIFFER = {"tracking_uri", "force", "tuner_workers", *WHERE_IT_RUNS}


def pipeline_run(client: MlflowClient, run_id: str):
    """A pipeline run by id, or a ConfigError that says what the id is not."""
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        if not not_found(error):
            raise
        raise ConfigError(f"no MLflow run {run_id!r} in the tracking store") from None
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


def load_json(client: MlflowClient, run_id: str, path: str) -> dict:
    """A JSON artifact of a run, read without leaving a downloaded copy behind."""
    with tempfile.TemporaryDirectory() as folder:
        with open(client.download_artifacts(run_id, path, folder)) as handle:
            return json.load(handle)


class EpochLogger(keras.callbacks.Callback):
    """Sends each epoch's logs (losses, metrics, learning rate) to a run with `step` = epoch, 1-based.

    Stateless apart from its target, so Keras Tuner's deep copies of callbacks stay correct.
    """

    def __init__(self, client: MlflowClient, run_id: str):
        super().__init__()
        self.client = client
        self.run_id = run_id

    def on_epoch_end(self, epoch, logs=None):
        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, epoch + 1) for k, v in (logs or {}).items()
                   if isinstance(v, (int, float, np.floating, np.integer))]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def __deepcopy__(self, memo):
        # The MLflow client holds a store connection that must not be copied; share it.
        return EpochLogger(self.client, self.run_id)


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-style Markdown table without the optional `tabulate` dependency."""
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


