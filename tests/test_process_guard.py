"""The suite's own guard (conftest.py): a process a test started and left running is found by its mark."""

import os
import sys

from tests.support import SESSION_MARK, Processes, marked_processes


def test_a_process_left_running_is_found_until_it_is_stopped():
    started = Processes()
    process = started.start([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # Found by the mark its environment inherited from this session, not by being our child.
        assert any(pid == process.pid for pid, _ in marked_processes(os.environ[SESSION_MARK]))
        assert not any(pid == process.pid for pid, _ in marked_processes("another-session"))
    finally:
        started.stop_all()
    assert not any(pid == process.pid for pid, _ in marked_processes(os.environ[SESSION_MARK]))
