"""`make server` refuses a taken port, naming it and what holds it, and starts nothing (issue 19's first part)."""

import os
import subprocess
import sys

import pytest

from flows.ops.ports import held_by_group, holders, taken
from tests.support import free_port

LISTENER = ("import socket, sys, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('up', flush=True)\n"
            "time.sleep(120)\n")


def listen(processes, port: int, folder) -> subprocess.Popen:
    """Another program (held_by_the_test.py) listening on `port`, in a process group of its own, once it listens."""
    script = folder / "held_by_the_test.py"
    script.write_text(LISTENER)
    process = processes.start_piped([sys.executable, str(script), str(port)])
    assert process.stdout.readline().strip() == "up"
    return process


def start_servers(tmp_path, prefect_port: int, mlflow_port: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.ops.servers", "start",
                           "--state", str(tmp_path / "servers.json"),
                           "--prefect-port", str(prefect_port), "--mlflow-port", str(mlflow_port),
                           "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
                           "--artifacts", str(tmp_path / "artifacts"), "--timeout", "60"],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("taken_one", ["prefect", "mlflow"])
def test_a_taken_port_is_refused_with_what_holds_it_and_nothing_starts(tmp_path, processes, taken_one):
    ports = {"prefect": free_port(), "mlflow": free_port()}
    holder = listen(processes, ports[taken_one], tmp_path)
    done = start_servers(tmp_path, ports["prefect"], ports["mlflow"])
    assert done.returncode == 1
    option = {"prefect": "PREFECT_PORT", "mlflow": "MLFLOW_PORT"}[taken_one]
    assert (f"port {ports[taken_one]} on 127.0.0.1, for the {taken_one} server, is taken by pid {holder.pid} "
            f"({sys.executable} {tmp_path / 'held_by_the_test.py'} {ports[taken_one]})") in done.stderr, done.stderr
    assert f"make server {option}=..." in done.stderr
    assert not (tmp_path / "servers.json").exists()  # nothing was started, so nothing to stop
    assert not (tmp_path / "artifacts").exists()


def test_the_two_servers_cannot_share_a_port(tmp_path):
    port = free_port()
    done = start_servers(tmp_path, port, port)
    assert done.returncode == 1 and f"cannot share port {port}" in done.stderr


def test_a_port_is_known_as_held_by_the_process_group_that_listens_on_it(processes, tmp_path):
    port = free_port()
    assert not taken("127.0.0.1", port) and holders(port) == []
    holder = listen(processes, port, tmp_path)
    assert taken("127.0.0.1", port)
    assert [pid for pid, _ in holders(port)] == [holder.pid]
    assert held_by_group(port, holder.pid)  # its own group (it was started in a session of its own)
    assert not held_by_group(port, os.getpgid(0))  # not the test's: what `make server` checks after starting
