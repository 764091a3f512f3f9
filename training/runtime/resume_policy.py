"""Whether an unfinished pipeline run may be resumed: the same experiment, config, code and libraries. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from training.config import ConfigError
from training.runtime.ownership import OWNER_PROCESS
from training.runtime.progress import say
from training.runtime.versioning import WHERE_IT_RUNS

# What a resumed run may be given anew: where the store is, whether to train regardless of "no change", and
# where the work runs (a resumed run may go to another cluster, or continue its search with more workers).
RESUME_MAY_DIFFER = {"tracking_uri", "force", "tuner_workers", *WHERE_IT_RUNS}


@dataclass(frozen=True)
class RecordedPipeline:
    """What the tracking store holds of a pipeline run someone asks to resume (its config is read apart)."""

    run_id: str
    experiment_id: str
    status: str
    tags: dict[str, str]


def why_not_resumable(run: RecordedPipeline, experiment_id: str, experiment_name: str,
                      versions: dict[str, str]) -> str | None:
    """Why `run` cannot be resumed with these code `versions`, or None when it may be (its config is judged by
    `why_not_same_config`): the stages it reuses were trained with its own code and libraries."""
    if run.experiment_id != experiment_id:
        return f"pipeline run {run.run_id} belongs to another experiment (id {run.experiment_id}), not to " \
               f"{experiment_name!r}"
    if run.status == "FINISHED":
        return f"pipeline run {run.run_id} finished; there is nothing to resume (start a new run)"
    if run.status == "RUNNING":
        return (f"pipeline run {run.run_id} is still RUNNING (its owner is alive or cannot be judged: "
                f"{run.tags.get(OWNER_PROCESS, 'unknown')}); stop it before resuming")
    for key in ("code.version", "libraries.hash"):
        recorded, current = run.tags.get(key), versions.get(key)
        if recorded and current and recorded != current:
            return (f"pipeline run {run.run_id} ran other code or libraries ({key} {recorded} -> {current}); its "
                    "stages cannot be reused: start a new run")
    return None


def why_not_same_config(run_id: str, recorded: dict | None, config: dict) -> str | None:
    """Why a pipeline run that recorded `recorded` (None: it failed before recording one) cannot be resumed
    with `config`, or None when nothing that shapes its results changed."""
    if recorded is None:
        return f"pipeline run {run_id} failed before recording its config; start a new run"
    changed = [f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in config.items()
               if k not in RESUME_MAY_DIFFER and recorded.get(k) != v]
    if changed:
        return (f"pipeline run {run_id} was started with another config ({'; '.join(changed)}); resume it "
                "with its own config (python -m flows run --resume RUN) or start a new run")
    return None


def choose_resume(explicit: str | None, retried: str | None, why_not: Callable[[str], str | None]) -> str | None:
    """Which pipeline run to continue: the one named (refused with a ConfigError that says why, if it cannot
    be), else the one an earlier attempt of the same flow run left unfinished, when it can be; else None."""
    if explicit:
        if why := why_not(explicit):
            raise ConfigError(why)
        return explicit
    if not retried:
        return None
    if why := why_not(retried):
        say(f"not resuming pipeline run {retried} of an earlier attempt: {why}")
        return None
    return retried


def data_changed(pipeline_run_id: str, recorded_fingerprint: str | None, fingerprint: str) -> str | None:
    """Why a resumed pipeline run cannot reuse its stages on today's split (they were trained on another one)."""
    if recorded_fingerprint == fingerprint:
        return None
    return (f"the data changed since pipeline run {pipeline_run_id} started (fingerprint {recorded_fingerprint} -> "
            f"{fingerprint}): its finished stages cannot be reused; start a new run instead of resuming")
