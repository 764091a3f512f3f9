"""A SIGTERM whose TerminationSignal Python loses (raised inside a finalizer) still stops the flow process."""

import subprocess
import sys

SCRIPT = '''
import os
import signal
import sys

{wrap}
from prefect.exceptions import TerminationSignal
from prefect.utilities.engine import capture_sigterm

from training.runtime import interruption

signal.signal(signal.SIGTERM, lambda *args: (print("handed on", flush=True), sys.exit(3)))


class SignalsWhileCollected:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # Prefect's bridge runs here, inside the finalizer: Python drops its exception
            pass


with capture_sigterm():  # what every Prefect flow run does around its body
    try:
        SignalsWhileCollected()
        print("still running after the lost signal", flush=True)
        interruption.check()  # what every batch of a fit does
        print("never stopped", flush=True)
    except TerminationSignal:
        print("raised again", flush=True)
        raise
'''


def run(tmp_path, wrap: str) -> subprocess.CompletedProcess:
    script = tmp_path / "lost_signal.py"
    script.write_text(SCRIPT.format(wrap=wrap))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)


def test_a_lost_termination_signal_is_raised_again_and_handed_on(tmp_path):
    done = run(tmp_path, "import flows.tasks  # noqa: F401  (wraps Prefect's SIGTERM bridge)")
    assert "Exception ignored" in done.stderr  # the signal really was lost where it landed
    assert done.stdout.splitlines() == ["still running after the lost signal", "raised again", "handed on"]
    assert done.returncode == 3


def test_without_the_wrapper_the_signal_is_simply_lost(tmp_path):
    # The failure this guards against: Prefect's bridge alone, and the process goes on as if never signalled.
    done = run(tmp_path, "")
    assert "Exception ignored" in done.stderr
    assert done.stdout.splitlines() == ["still running after the lost signal", "never stopped"]
    assert done.returncode == 0
