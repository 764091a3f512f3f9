"""Who owns an MLflow run while it is RUNNING: a process (host, pid, start time) and a Prefect flow run.

No MLflow and no Prefect here (the tracking package and the flows pass in what they know), but not pure: it
reads this machine's /proc and asks the kernel whether a pid exists (signal 0, which signals nothing).

A process killed with SIGKILL, or a machine that dies, cannot end its runs: they would look alive forever.
Every run records its owner at creation; the next pipeline judges each RUNNING run by these records and
closes those whose owner is certainly gone. A run it cannot judge (another machine, no Prefect answer) is
left alone: closing a live run would be worse than leaving a dead one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

OWNER_PROCESS = "owner.process"  # "<machine>/<pid>/<start time in clock ticks since boot>"
OWNER_FLOW_RUN = "owner.flow_run_id"  # the root Prefect flow run, when there is one


def process_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (telling a reused pid from the original), where /proc exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def machine() -> str:
    """Where a pid means something: the host name, its boot and its PID namespace. Two containers on one node
    may share a host name (host networking) but never a PID namespace; a reboot reuses pids."""
    parts = [socket.gethostname()]
    for source, read in (("/proc/sys/kernel/random/boot_id", lambda p: Path(p).read_text().strip()[:8]),
                         ("/proc/self/ns/pid", lambda p: str(os.stat(p).st_ino))):
        try:
            parts.append(read(source))
        except OSError:
            pass
    return ":".join(parts).replace("/", "-")


def this_process() -> str:
    pid = os.getpid()
    return f"{machine()}/{pid}/{process_start(pid) or ''}"


def process_alive(owner: str, host: str) -> bool | None:
    """True or False for a process of this machine (`machine()`); None for another's (not visible here)."""
    parts = owner.rsplit("/", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    owner_host, pid, started = parts[0], int(parts[1]), parts[2]
    if owner_host != host:
        return None
    now = process_start(pid)
    if now is not None:
        return not started or now == started  # same pid, other start time: the pid was reused
    try:
        os.kill(pid, 0)  # no /proc (macOS): existence only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_gone(tags: dict[str, str], host: str, flow_run_ended: Callable[[str], bool | None],
               current_flow_run: str | None = None) -> str | None:
    """Why the owner of a RUNNING run is certainly gone, or None when it may be alive or cannot be judged.

    `current_flow_run` is the flow run that is starting now: a run it owns was left by an earlier attempt of
    that same flow run (Prefect runs one attempt at a time), even from this very process.
    """
    owner, flow_run = tags.get(OWNER_PROCESS), tags.get(OWNER_FLOW_RUN)
    if current_flow_run and flow_run == current_flow_run:
        return f"an earlier attempt of flow run {flow_run} left it running"
    if owner:
        alive = process_alive(owner, host)
        if alive is False:
            return f"its process {owner} no longer exists"
        if alive:
            return None
    if flow_run and flow_run_ended(flow_run):
        return f"its Prefect flow run {flow_run} has ended"
    return None
