"""What the end-to-end tests share: free loopback ports, waiting for a server to answer, and process groups
that are stopped whatever happens to the test (the `processes` fixture in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

# Every process the suite starts inherits this variable; at the end the suite looks for processes that still
# carry its value (conftest.py), so a server a failing test forgot is found and reported, not left running.
SESSION_MARK = "KERAS_MLOPS_TEST_SESSION"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 90) -> bytes:
    """The body of the first answer from `url`; fails when `process` exits or `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            assert process is None or process.poll() is None, f"the server behind {url} exited"
            assert time.monotonic() < deadline, f"{url} did not answer within {timeout:.0f} s"
            time.sleep(0.5)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(pgid: int, grace: float = 30, leader: subprocess.Popen | None = None) -> None:
    """SIGTERM a process group, wait for all of it to end, SIGKILL what is left after `grace` seconds.

    `leader`: the group's first process when it is our child; it is reaped as it ends (until then its zombie
    keeps the group alive)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if leader is not None:
            leader.poll()
        if not group_alive(pgid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_side_by_side(commands: list[list[str]], timeout: float = 300) -> list[tuple[int, str]]:
    """(exit status, stdout) of each command, all started at once in process groups of their own; whatever
    happens (a timeout, an error), every group is stopped before this returns."""
    started = Processes()
    try:
        processes = [started.start_piped(command) for command in commands]
        outputs = [process.communicate(timeout=timeout)[0] for process in processes]
        return [(process.returncode, output) for process, output in zip(processes, outputs, strict=True)]
    finally:
        started.stop_all()


class Processes:
    """Starts commands in process groups of their own and stops every group at the end of the test."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], log: Path | None = None, **kwargs) -> subprocess.Popen:
        """Output to `log` (stdout and stderr together), else discarded."""
        if log is None:
            return self._spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        with log.open("wb") as out:
            return self._spawn(args, stdout=out, stderr=subprocess.STDOUT, **kwargs)

    def start_piped(self, args: list[str], **kwargs) -> subprocess.Popen:
        """Like `start`, with stdout to a pipe (text) for `communicate`."""
        return self._spawn(args, stdout=subprocess.PIPE, text=True, **kwargs)

    def _spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            stop_group(process.pid, leader=process)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def command_line(process: Path) -> str:
    """The whole command line of the process whose /proc folder this is (never cut at a terminal's width, as
    `ps` output is); empty for a zombie."""
    return (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()


def command_lines() -> list[str]:
    """The command line of every process on this machine, as anyone on it can read them."""
    lines = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):  # ended meanwhile
            if entry.name.isdigit():
                lines.append(command_line(entry))
    return lines


def marked_processes(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every process but this one whose environment carries SESSION_MARK=`mark`."""
    needle = f"{SESSION_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = command_line(entry)
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # ended meanwhile, or not ours to read
            continue
        # multiprocessing's resource tracker (started for a local Dask cluster) belongs to this process and
        # ends with it; a zombie has no command line left: it has ended, only its parent has not reaped it.
        if command and not (parent == os.getpid() and "multiprocessing.resource_tracker" in command):
            found.append((int(entry.name), command))
    return found
