"""Keras Tuner's own distributed mode: a chief process serves the oracle, worker processes run the trials.

`run_distributed_search` (called by the tuning stage's task) writes the search down as a job file, starts the
chief and N workers as processes of `python -m tuning.distributed`, waits for them and summarizes the search
from the project folder the chief saved. Keras Tuner reads each process's role from its environment
(KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT), which is why a role is a process and never
a thread. Every process builds the same tracked tuner on the same project folder, so each trial is still an
MLflow child run of the tuning stage (logged by the worker that ran it), and an interrupted search resumes from
the oracle's saved state like an in-process one.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from training.config import Selection
from training.data.split import Split
from training.model.spec import ModelSpec
from training.runtime.environment import thread_environment
from training.runtime.progress import log_tail
from training.tracking.runs import Tracker
from tuning.compat import patient
from tuning.tuner import Budget, SearchSummary, summarize, tracked_tuner

CHIEF, WORKER = "chief", "worker"
ORACLE_HOST = "127.0.0.1"  # the oracle serves the processes of this machine only (loopback)
POLL_SECONDS = 0.5
# Keras Tuner's chief re-checks whether the search is over only every 20 s; when every worker has been told to
# stop, each trial's end is already saved in oracle.json, so it is not waited for longer than this.
CHIEF_GRACE_SECONDS = 3.0
PARENT_PID = "KERAS_MLOPS_SEARCH_PARENT"  # the flow process that started a chief or worker


@dataclass(frozen=True)
class SearchJob:
    """Everything a chief or worker process needs to build the same tuner as the others."""

    kind: str
    base: ModelSpec
    split: Split
    selection: Selection
    budget: Budget
    directory: Path
    tracker: Tracker
    stage_run_id: str
    seed: int
    mixed_precision: str = "auto"  # each process sets up its own devices, as the flow's process did
    deterministic: bool = False
    centred: bool = False  # the search space around the base (tuning.space)

    def tuner(self):
        """The tracked tuner on the job's project folder; its role (chief, worker, none) comes from the
        environment of the process that builds it."""
        tuner = tracked_tuner(self.kind, self.base, self.split, self.selection, self.budget, self.directory,
                              self.tracker, self.stage_run_id, self.seed, self.centred)
        if role() != WORKER and (self.directory / "oracle.json").exists():
            # Keras Tuner reloads the oracle only along with this role's own state file (chief.json,
            # tuner0.json), which may not exist: a search begun in one process and resumed distributed, or a
            # worker 0 that ran no trial. The oracle's state is what counts: the trials run so far.
            tuner.oracle.reload()
        return tuner


def role(environ=os.environ) -> str | None:
    """This process's role in a distributed search, from the variables Keras Tuner documents and reads:
    KERASTUNER_ORACLE_IP set means a distributed search, and KERASTUNER_TUNER_ID names the chief or a worker.
    None outside one (the flow's own process, which only reads the project back)."""
    if "KERASTUNER_ORACLE_IP" not in environ:
        return None
    return CHIEF if "chief" in environ.get("KERASTUNER_TUNER_ID", "") else WORKER


class SearchProcessError(RuntimeError):
    """A chief or worker process of a distributed search failed; the message holds the end of its log."""


def free_port(host: str = ORACLE_HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def worker_environment(index: int, workers: int, gpu_ids: list[str], cores: int | None = None) -> dict[str, str]:
    """One GPU per worker where there are GPUs (round robin when there are fewer GPUs than workers); on a CPU,
    the cores shared between the workers so that they do not fight over threads. Pure."""
    env = {"KERASTUNER_TUNER_ID": f"tuner{index}"}
    if gpu_ids:
        env["CUDA_VISIBLE_DEVICES"] = gpu_ids[index % len(gpu_ids)]
    else:
        env.update(thread_environment(workers, cores))
    return env


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """End every process still running (each leads its own process group) and wait for them."""
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_distributed_search(job: SearchJob, workers: int, gpu_ids: list[str] | None = None) -> SearchSummary:
    """Run the search with a chief and `workers` worker processes (worker i on GPU gpu_ids[i], round robin);
    returns its SearchSummary. Raises SearchProcessError, after stopping the others, as soon as any fails."""
    folder = job.directory / "distributed"  # job file and logs, inside the project that is removed when done
    folder.mkdir(parents=True, exist_ok=True)
    job_file = folder / "job.pkl"
    # Readable by this user alone: the tracker in it holds the tracking URI, with its password if it has one.
    with os.fdopen(os.open(job_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        pickle.dump(job, out)
    oracle = {"KERASTUNER_ORACLE_IP": ORACLE_HOST, "KERASTUNER_ORACLE_PORT": str(free_port()),
              PARENT_PID: str(os.getpid())}
    roles = {CHIEF: {"KERASTUNER_TUNER_ID": CHIEF, "CUDA_VISIBLE_DEVICES": ""}}  # the oracle needs no GPU
    roles.update({f"worker-{i}": worker_environment(i, workers, gpu_ids or []) for i in range(workers)})
    processes: dict[str, subprocess.Popen] = {}
    try:
        for role, env in roles.items():
            log = folder / f"{role}.log"
            with log.open("wb") as out:
                # Own process groups: stopping one role ends what it started, and a Ctrl-C reaches this
                # process alone, which then stops them all (below).
                processes[role] = subprocess.Popen(
                    [sys.executable, "-m", "tuning.distributed", str(job_file)], env={**os.environ, **oracle, **env},
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(processes, folder)
    finally:
        _stop(processes)
    # This process has no role in its environment: its tuner reloads the project as the chief saved it.
    return summarize(job.tuner(), job.base)


def _wait(processes: dict[str, subprocess.Popen], folder: Path) -> None:
    """Until every worker has ended well; raises as soon as any process ends badly."""
    while True:
        for role, process in processes.items():
            code = process.poll()
            if code is not None and code != 0:
                raise SearchProcessError(f"the tuning {role} process exited with code {code} before the search "
                                         f"ended; its log ({folder / (role + '.log')}) ends with:\n"
                                         f"{log_tail(folder / (role + '.log'))}")
        # A worker ends well only when the oracle told it the search is over; the chief, only after that.
        if all(p.poll() == 0 for role, p in processes.items() if role != CHIEF):
            break
        time.sleep(POLL_SECONDS)
    with contextlib.suppress(subprocess.TimeoutExpired):
        processes[CHIEF].wait(timeout=CHIEF_GRACE_SECONDS)  # else stopped by the caller: see the constant


def _serve(job_file: Path) -> None:
    """The body of a chief or worker process: build the tracked tuner and search (Keras Tuner decides from
    the environment whether that serves the oracle or runs trials)."""
    from training.runtime.devices import configure_devices

    _end_with_parent(int(os.environ[PARENT_PID]))
    job: SearchJob = pickle.loads(job_file.read_bytes())
    configure_devices(job.mixed_precision, job.deterministic)
    tuner = job.tuner()
    if role() == WORKER:
        tuner.oracle = patient(tuner.oracle)
    tuner.search(verbose=0)


def _end_with_parent(parent: int) -> None:
    """Stop this process when the flow process that started it is gone (SIGKILLed, its machine's worker
    stopped): it leads a process group of its own, so nothing else would, and a search nobody waits for
    would go on training and logging."""
    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


if __name__ == "__main__":
    if os.environ.get("KERASTUNER_TUNER_ID") != CHIEF:
        # Stopped by the flow (a failed sibling, Ctrl-C): exit through Python, so the trial's MLflow run ends
        # KILLED instead of staying RUNNING. The chief holds no run, and its gRPC threads would keep it alive.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    _serve(Path(sys.argv[1]))
