"""Where a stage's candidates train: Prefect's thread-pool task runner (`max_parallel` threads of the flow's
process) or, when the config says `task_runner: dask`, prefect-dask's task runner on a Dask cluster, either an
existing one (`dask_address`) or a local cluster of `dask_workers` processes.

Dask is imported only here and only when asked for, so a run on threads pays nothing for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from training.config import PipelineConfig
from training.runtime.environment import thread_environment


def local_cluster(workers: int):
    """A Dask cluster of `workers` processes on loopback, one task at a time each, the cores shared between
    them (TensorFlow reads its thread counts from the environment when a worker first imports it)."""
    import dask
    from distributed import LocalCluster

    # A worker that dies (out of memory, killed) fails its candidate, as a crash in the flow's process would:
    # Dask's default is to run the task again elsewhere, a silent retry that leaves the first attempt's run
    # RUNNING and trains the candidate twice. Read by the scheduler when it is made.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, env=thread_environment(workers))


@contextlib.contextmanager
def candidate_cluster(config: PipelineConfig) -> Iterator[PipelineConfig]:
    """For a pipeline on Dask without an address: one local cluster for all its stages (each worker imports
    TensorFlow once, not once per stage); yields the config that points the stages at it. Else the config."""
    if config.task_runner != "dask" or config.dask_address:
        yield config
        return
    with local_cluster(config.dask_workers) as cluster:
        yield config.model_copy(update={"dask_address": cluster.scheduler_address})


@contextlib.contextmanager
def candidate_task_runner(config: PipelineConfig):
    """A started task runner for a stage's candidates: Dask's, or a pool of `max_parallel` threads (a slot frees
    when any candidate ends, whichever it is)."""
    if config.task_runner == "dask":
        with dask_task_runner(config) as runner:
            yield runner
        return
    from prefect.task_runners import ThreadPoolTaskRunner

    with ThreadPoolTaskRunner(max_workers=config.max_parallel) as runner:
        yield runner


@contextlib.contextmanager
def dask_task_runner(config: PipelineConfig):
    """A started DaskTaskRunner on the config's cluster (a local one for this stage when none is named)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_dask import DaskTaskRunner

    with contextlib.ExitStack() as stack:
        address = config.dask_address or stack.enter_context(local_cluster(config.dask_workers)).scheduler_address
        # Task runs are recorded by the worker that runs them, through the Prefect API it finds in the settings
        # sent with each task. Without PREFECT_API_URL this process talks to a temporary API of its own, and a
        # worker would start yet another (~10 s, a second database): name this process's API instead.
        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: PREFECT_API_URL.value() or api_url()}))
        yield stack.enter_context(DaskTaskRunner(address=address))


def api_url() -> str:
    """The URL of the Prefect API this process uses (its temporary server's, when none is configured)."""
    from prefect.client.orchestration import get_client

    return str(get_client(sync_client=True).api_url)
