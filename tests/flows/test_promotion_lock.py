"""Without a Prefect server (the CLI's temporary API) promotions of one model exclude each other through a file
lock that the kernel releases when its holder dies, even by SIGKILL."""

import os
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

import flows.promotion
from flows.promotion import promotion_lock


@pytest.fixture
def no_prefect_server(monkeypatch):
    monkeypatch.setattr(flows.promotion, "get_current_settings", lambda: SimpleNamespace(api=SimpleNamespace(url=None)))


def test_two_holders_take_turns(no_prefect_server):
    events = []

    def promote(who):
        with promotion_lock("lock-test-model"):
            events.append(f"{who} in")
            time.sleep(0.5)
            events.append(f"{who} out")

    threads = [threading.Thread(target=promote, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert events == ["a in", "a out", "b in", "b out"]


def test_a_killed_holder_releases_the_lock(no_prefect_server):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time, flows.promotion as p\n"
        "from types import SimpleNamespace as N\n"
        "p.get_current_settings = lambda: N(api=N(url=None))\n"
        "with p.promotion_lock('lock-test-killed'):\n"
        "    print('held', flush=True); time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        acquired = threading.Event()

        def wait_for_lock():
            with promotion_lock("lock-test-killed"):
                acquired.set()

        waiter = threading.Thread(target=wait_for_lock, daemon=True)
        waiter.start()
        assert not acquired.wait(1.0)  # held by the other process
        os.kill(holder.pid, signal.SIGKILL)
        assert acquired.wait(10.0)
    finally:
        holder.kill()
        holder.wait()
