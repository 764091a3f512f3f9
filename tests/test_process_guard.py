"""The suite's own guard (conftest.py): a process a test started and left running is found by its mark."""

import os
import sys
import time

from tests.support import SESSION_MARK, Processes, marked_processes


def found(pid: int, mark: str) -> bool:
    return any(each == pid for each, _ in marked_processes(mark))


def test_a_process_left_running_is_found_until_it_is_stopped():
    started = Processes()
    process = started.start([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # Popen returns while the kernel may still be building the new image, whose environment and command
        # line read empty until then (the CI on dbf78f4 hit that window once): the guard looks at processes
        # left running at a test's end, long past it, so this waits it out.
        deadline = time.monotonic() + 10
        while not found(process.pid, os.environ[SESSION_MARK]) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Found by the mark its environment inherited from this session, not by being our child.
        assert found(process.pid, os.environ[SESSION_MARK])
        assert not found(process.pid, "another-session")
    finally:
        started.stop_all()
    assert not found(process.pid, os.environ[SESSION_MARK])
