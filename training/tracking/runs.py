"""A connection to one experiment: open and end runs, write their params, metrics, tags and artifacts.

Pipeline and stage runs are created through the client with explicit ids, so no fluent "active run" is ever
left open in a thread; candidate runs name their parent explicitly, which also works from another thread or
process. Every run is ended on the way out: FAILED when an exception passes, KILLED when interrupted.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from collections.abc import Iterator

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from training.report import plots
from training.report.markdown import markdown_table
from training.runtime import interruption
from training.runtime.ownership import OWNER_FLOW_RUN, OWNER_PROCESS, this_process
from training.tracking.epoch_logger import EpochLogger
from training.tracking.uris import local_artifact_root, runs_page, slug, ui_base

FINISHED, FAILED, KILLED, RUNNING = (RunStatus.to_string(s) for s in (RunStatus.FINISHED, RunStatus.FAILED,
                                                                      RunStatus.KILLED, RunStatus.RUNNING))


class Tracker:
    """One experiment on one tracking server."""

    def __init__(self, tracking_uri: str, experiment: str):
        self.tracking_uri = tracking_uri
        if artifacts := local_artifact_root(tracking_uri):
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
        """Who owns a run while it is RUNNING (training.runtime.ownership): judged later if it never ends."""
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
        if root := local_artifact_root(self.tracking_uri):
            location = (root / slug(name)).as_uri()
        try:
            # A training experiment: the UI then opens on its runs, not on the GenAI overview.
            return self.client.create_experiment(name, artifact_location=location,
                                                 tags={"mlflow.experimentKind": "custom_model_development"})
        except MlflowException:
            # Another process created it between our lookup and create.
            return self.client.get_experiment_by_name(name).experiment_id

    def run_link(self, run_id: str) -> str:
        """Where a person opens the run: the tracking server, or `make ui` on the local store."""
        return f"{ui_base(self.tracking_uri)}/#/experiments/{self.experiment_id}/runs/{run_id}"

    def runs_page(self) -> str:
        """The experiment's "Training runs" page in the UI (training.tracking.uris.runs_page)."""
        return runs_page(ui_base(self.tracking_uri), self.experiment_id)

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
            self.client.update_run(run_id, status=RUNNING)
        else:
            all_tags = {MLFLOW_RUN_NAME: name, **(tags or {}), **self.owner_tags()}
            if parent_id:
                all_tags[MLFLOW_PARENT_RUN_ID] = parent_id
            run_id = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags).info.run_id
        try:
            interruption.check()  # a stop Python dropped since the last check: this run ends KILLED at once
            yield run_id
            interruption.check()  # ... or before it would be marked FINISHED
        except Exception:
            self.client.set_terminated(run_id, ended_by_error())
            raise
        except BaseException:
            # Not an error of the run but an interruption: Ctrl-C, SystemExit, or the signal a Prefect worker
            # sends to cancel a flow run (Prefect raises it as a BaseException, TerminationSignal).
            self.client.set_terminated(run_id, KILLED)
            raise
        self.client.set_terminated(run_id, FINISHED)

    @contextlib.contextmanager
    def candidate_run(self, name: str, stage_run_id: str, tags: dict[str, str]) -> Iterator[str]:
        """A candidate run, active in this thread's fluent stack so that `log_model` links to it."""
        active = mlflow.start_run(experiment_id=self.experiment_id, run_name=name, parent_run_id=stage_run_id,
                                  tags={**tags, **self.owner_tags()})
        try:
            interruption.check()
            yield active.info.run_id
            interruption.check()
        except Exception:
            mlflow.end_run(ended_by_error())
            raise
        except BaseException:  # interrupted, as in `run`
            mlflow.end_run(KILLED)
            raise
        mlflow.end_run(FINISHED)

    @contextlib.contextmanager
    def active(self, run_id: str) -> Iterator[None]:
        """Make a client-managed run the fluent active run of this thread for a moment (for log_model),
        without letting the fluent API end it: its status stays with whoever owns the run."""
        mlflow.start_run(run_id=run_id)
        try:
            yield
        finally:
            # Pop it from the fluent stack and put back the status it had (RUNNING).
            mlflow.end_run(status=RUNNING)

    def end_run(self, run_id: str, status: str, reason: str) -> None:
        """End a run someone else left open, saying why (a run whose owner died)."""
        self.set_tags(run_id, {"closed.reason": reason[:5000]})
        self.client.set_terminated(run_id, status)

    # --- writing ----------------------------------------------------------------------------------

    def log_params(self, run_id: str, params: dict) -> None:
        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
        )

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

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

    def epoch_logger(self, run_id: str) -> EpochLogger:
        return EpochLogger(self.client, run_id)

    # --- reading ----------------------------------------------------------------------------------

    def get_run(self, run_id: str):
        return self.client.get_run(run_id)

    def load_json(self, run_id: str, path: str) -> dict:
        return load_json(self.client, run_id, path)

    def has_artifact(self, run_id: str, path: str) -> bool:
        return path in {a.path for a in self.client.list_artifacts(run_id)}

    def search(self, query: str, order_by: list[str] | None = None, max_results: int | None = None) -> list:
        """Runs of this experiment matching `query`: every page, or the first `max_results`."""
        if max_results is not None:
            return list(self.client.search_runs([self.experiment_id], query, order_by=order_by,
                                                max_results=max_results))
        runs, token = [], None
        while True:  # paged: a long Hyperband search has more trials than one page holds
            page = self.client.search_runs([self.experiment_id], query, order_by=order_by, max_results=1000,
                                           page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def child_runs(self, parent_id: str) -> list:
        return self.search(f"tags.{MLFLOW_PARENT_RUN_ID} = '{parent_id}'")


def ended_by_error() -> str:
    """FAILED, unless a stop was asked for: then the error is how the interruption surfaced (KILLED)."""
    return KILLED if interruption.pending() else FAILED


def _reconnect(tracking_uri: str, experiment: str, flow_run_id: str | None) -> Tracker:
    tracker = Tracker(tracking_uri, experiment)
    tracker.flow_run_id = flow_run_id
    return tracker


def load_json(client: MlflowClient, run_id: str, path: str) -> dict:
    """A JSON artifact of a run, read without leaving a downloaded copy behind."""
    with tempfile.TemporaryDirectory() as folder:
        with open(client.download_artifacts(run_id, path, folder)) as handle:
            return json.load(handle)
