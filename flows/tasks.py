"""The Prefect tasks the stage flows are wired from."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from uuid import UUID

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.termination import remember_sigterm
from training.checks.profile import DataProfile, numeric, profile_images, profile_table
from training.config import PipelineConfig, Selection
from training.data.split import Split, make_split
from training.data.tables import Dataset, load_dataset
from training.method.grids import baseline_spec
from training.method.selection import CandidateResult
from training.model.build import check_buildable
from training.model.families import family
from training.model.spec import ModelSpec
from training.runtime import interruption
from training.runtime.devices import DeviceInfo, configure_devices, visible_gpu_ids
from training.runtime.environment import limit_tensorflow_threads
from training.runtime.progress import say
from training.tracking.candidates import train_and_record
from training.tracking.runs import Tracker
from training.tracking.uris import project_root, resolve_tracking_uri
from tuning.distributed import SearchJob, run_distributed_search
from tuning.tuner import BUDGETS, SearchSummary, run_search, scaled

PIXEL_SAMPLE_FILES = 1024  # per split, for the channels' means and spreads of images that stay on disk

# Before any flow of this process installs Prefect's SIGTERM bridge (every flow module imports this one).
remember_sigterm()


@dataclass(frozen=True)
class PreparedData:
    dataset: Dataset
    split: Split
    profile: DataProfile  # what the validation stage compares with the champion's, and the version keeps
    excluded: tuple[str, ...] = ()  # columns read but not profiled: the split_by column, whose times always move

    def values(self, column: str):
        """Tonight's values of a number or time column, as float64 (the drift statistics read them)."""
        return numeric(self.dataset.frame[column].dropna())


@dataclass(frozen=True)
class DataRequest:
    """What a split depends on, as a cache key (a file's size and mtime standing in for its contents); the config
    it came from rides along, out of the key."""

    key: tuple
    config: PipelineConfig = field(compare=False)

    @classmethod
    def of(cls, config: PipelineConfig) -> DataRequest:
        path = Path(config.data)
        stamp = (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else None
        size = tuple(config.image_size) if config.image_size else None  # a list: unhashable
        return cls((config.data, config.table, config.query, stamp, config.target, config.task, config.fractions,
                    config.seed, config.split_by, size, config.image_memory_mb, config.resolved_model,
                    config.max_unreadable_share), config)


# One data set in memory per process: every stage of a pipeline (or a stage flow run alone) shares the split of
# the run's data, and the next data set replaces it. Not a Prefect-persisted cache: results would be pickled to
# disk on every call.
@functools.lru_cache(maxsize=1)
def prepared_data(request: DataRequest) -> PreparedData:
    config = request.config
    dataset = load_dataset(config.data, config.target, config.task, config.image_size, config.table, config.query,
                           config.max_unreadable_share)
    split = make_split(dataset, config.fractions, config.seed, config.image_memory_mb, config.split_by)
    check_buildable(baseline_spec(config), split.input_shape, split.task, split.n_classes)
    excluded = (config.split_by,) if config.split_by else ()
    return PreparedData(dataset, split, profile_of(dataset, split, excluded, config.seed), excluded)


def profile_of(dataset: Dataset, split: Split, excluded: tuple[str, ...], seed: int) -> DataProfile:
    """The data's profile (training.checks.profile): a table's columns as loaded, or the images' classes and
    pixels (in memory: all of them; on disk: a seeded sample of files, not a third pass over the folder)."""
    if dataset.image_shape is None:
        return profile_table(dataset.frame, dataset.target, dataset.task, seed, exclude=excluded)
    pixels = [split.x_train, split.x_val, split.x_test]
    if split.streamed:
        pixels = [files.pixels(sorted(np.random.default_rng(seed).choice(
            files.paths, size=min(PIXEL_SAMPLE_FILES, len(files.paths)), replace=False).tolist()))
            for files in pixels]
    return profile_images(dataset.frame[dataset.target], dataset.target, dataset.image_shape, pixels,
                          unreadable=len(dataset.unreadable), images_read=dataset.images_read or len(dataset.frame))


@task(cache_policy=NO_CACHE)
def prepare_data(config: PipelineConfig) -> PreparedData:
    """Load, validate and split the data, and build the model once on it (once per process for the same data
    and config): a bad file or build function fails here, before any run is written."""
    return prepared_data(DataRequest.of(config))


def prepare_devices(config: PipelineConfig) -> DeviceInfo:
    """GPU memory growth, dtype policy and thread limits, once per process and before any TensorFlow op."""
    return configured_devices(config.mixed_precision, config.max_parallel, config.deterministic)


# TensorFlow's devices and threads are the process's and are set once; a setting asked for again is answered with
# what was found the first time (a handful of settings at most: the cache is bounded by their combinations).
@functools.cache
def configured_devices(mixed_precision: str, max_parallel: int, deterministic: bool) -> DeviceInfo:
    if limit_tensorflow_threads(max_parallel) is None and max_parallel > 1:
        say(f"warning: TensorFlow had started before this run: its threads are not shared between the "
            f"{max_parallel} parallel candidates")
    return configure_devices(mixed_precision, deterministic)


def connect(config: PipelineConfig) -> Tracker:
    """The flow's tracker, its runs owned by the root flow run; a root flow run starts with no stop pending
    (one asked of an earlier flow run of this process is not its own)."""
    tracker = Tracker(resolve_tracking_uri(config.tracking_uri), config.experiment)
    tracker.flow_run_id = root_flow_run_id()
    if is_root_flow_run():
        interruption.forget()
    return tracker


def is_root_flow_run() -> bool:
    """Whether this flow run is the outermost one of its process (a pipeline, or a stage or promotion alone)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()  # a subflow was started by a task run of its parent (no API call to know)
    return context is None or context.flow_run is None or context.flow_run.parent_task_run_id is None


def root_flow_run_id() -> str | None:
    """The outermost Prefect flow run of this process (the pipeline's, when a stage runs inside it)."""
    from prefect.runtime import flow_run

    try:
        return str(flow_run.root_flow_run_id or flow_run.id or "") or None
    except Exception:  # outside a flow run, or no API to ask: the process alone identifies the owner
        return None


def flow_run_ended(flow_run_id: str) -> bool | None:
    """Whether Prefect holds that flow run in a final state (Completed, Failed, Crashed, Cancelled);
    None when it cannot tell (unknown id, API unreachable)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
    except Exception:
        return None
    return state is not None and state.is_final()


@task(cache_policy=NO_CACHE)
def train_candidate(stage: str, name: str, spec: ModelSpec, split: Split, selection: Selection,
                    config: PipelineConfig, tracker: Tracker, stage_run_id: str) -> CandidateResult:
    """Train one variant through the single fit path and record it as a child of its stage run."""
    # Done once per process: here a no-op, on a Dask worker the device setup the flow's process made.
    prepare_devices(config)
    say(f"  {stage}/{name} started: {spec.describe()}, {spec.epochs} epochs")
    recorded = train_and_record(tracker, stage_run_id, name, {"stage": stage, "variant": name, "kind": "candidate"},
                                spec, split, selection, seed=config.seed)
    result = recorded.result
    say(f"  {stage}/{name} finished: {selection.metric} {result.score:.4f}, best epoch "
        f"{result.diagnosis.best_epoch}/{result.epochs_run}, {result.diagnosis.regime}, {result.fit_seconds:.1f}s")
    return CandidateResult.of_fit(name, spec, recorded.run_id, recorded.model_uri, result)


def tuning_directory(config: PipelineConfig, owner_run_id: str) -> Path:
    """The tuner project of one pipeline run: resumed by a retry of that run, fresh for a new one."""
    root = Path(config.work_dir) if config.work_dir else project_root() / ".work"
    return root / owner_run_id / "tuning"


@task(cache_policy=NO_CACHE)
def search_hyperparameters(config: PipelineConfig, base: ModelSpec, split: Split, selection: Selection,
                           tracker: Tracker, stage_run_id: str, directory: Path, scale: float = 1.0) -> SearchSummary:
    """Run (or continue) the Keras Tuner search; every trial is a child run of the tuning stage. `scale`: the
    share of the profile's budget to spend; a budget the config sets itself is spent as set."""
    budget = scaled(BUDGETS[config.profile], scale)
    budget = replace(budget, max_trials=config.max_trials or budget.max_trials,
                     max_epochs=config.tuning_max_epochs or budget.max_epochs)
    centred = config.centred_search
    if skipped := family(base.family).skipped():
        say(f"  tuning: {base.family} declares no {', '.join(skipped)} knob: not searched")
    if not config.tuner_workers:
        say(f"  tuning: {config.tuner} search in {directory}, {scale:.0%} of the profile's budget"
            f"{', centred on the incoming winner' if centred else ''}")
        return run_search(config.tuner, base, split, selection, budget, directory, tracker, stage_run_id,
                          config.seed, centred)
    say(f"  tuning: {config.tuner} search in {directory}, Keras Tuner's chief and {config.tuner_workers} "
        "worker process(es)")
    job = SearchJob(config.tuner, base, split, selection, budget, directory, tracker, stage_run_id, config.seed,
                    config.mixed_precision, config.deterministic, centred)
    return run_distributed_search(job, config.tuner_workers, visible_gpu_ids())
