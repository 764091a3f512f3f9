import os
import subprocess
import sys

from training.runtime.ownership import OWNER_FLOW_RUN, OWNER_PROCESS, machine, owner_gone, process_alive, this_process

HOST = machine()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_this_process_is_alive():
    assert process_alive(this_process(), HOST) is True


def test_a_finished_process_is_dead():
    assert process_alive(f"{HOST}/{dead_pid()}/12345", HOST) is False


def test_a_reused_pid_is_not_the_owner():
    # Same pid as a live process, another start time: the owner died and the pid was given to someone else.
    assert process_alive(f"{HOST}/{os.getpid()}/1", HOST) is False


def test_another_hosts_process_cannot_be_judged_from_here():
    assert process_alive(f"other-host/{os.getpid()}/1", HOST) is None
    # Same host name, another PID namespace (a container with host networking) or another boot: not ours.
    hostname = HOST.split(":")[0]
    assert process_alive(f"{hostname}:other-boot:4026531836/{os.getpid()}/1", HOST) is None
    assert process_alive("garbage", HOST) is None


def test_owner_gone_reasons():
    never_asked = {}

    def ended(flow_run_id):
        never_asked[flow_run_id] = True
        return {"f-done": True, "f-running": False}.get(flow_run_id)

    dead = f"{HOST}/{dead_pid()}/1"
    assert "no longer exists" in owner_gone({OWNER_PROCESS: dead, OWNER_FLOW_RUN: "f-running"}, HOST, ended)
    # A live local process is trusted without asking Prefect.
    assert owner_gone({OWNER_PROCESS: this_process(), OWNER_FLOW_RUN: "f-done"}, HOST, ended) is None
    assert "f-done" not in never_asked
    # Another machine's process: Prefect's word decides; no word (unknown run, API down), no verdict.
    assert "flow run f-done has ended" in owner_gone({OWNER_PROCESS: "gpu-7/12/9", OWNER_FLOW_RUN: "f-done"},
                                                     HOST, ended)
    assert owner_gone({OWNER_PROCESS: "gpu-7/12/9", OWNER_FLOW_RUN: "f-running"}, HOST, ended) is None
    assert owner_gone({OWNER_PROCESS: "gpu-7/12/9", OWNER_FLOW_RUN: "f-unknown"}, HOST, ended) is None
    assert owner_gone({}, HOST, ended) is None  # runs from before owners were recorded are left alone


def test_an_earlier_attempt_of_the_starting_flow_run_is_gone_even_in_this_process():
    tags = {OWNER_PROCESS: this_process(), OWNER_FLOW_RUN: "f-1"}
    assert "earlier attempt of flow run f-1" in owner_gone(tags, HOST, lambda _: False, current_flow_run="f-1")
    assert owner_gone(tags, HOST, lambda _: False, current_flow_run="f-2") is None
