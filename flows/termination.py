"""SIGTERM that ends a flow run even when Python loses the exception Prefect raises for it.

Prefect's SIGTERM bridge raises TerminationSignal in whatever the main thread runs at that moment. When that is
a finalizer or weakref callback, Python prints "Exception ignored in ..." and the flow trains on to the end
(seen in tests/flows/test_signals.py: a cancelled pipeline exited 0 after promoting). The bridge is wrapped so
that it first remembers the stop (training.runtime.interruption); the fit path raises it again at its next batch.
"""

from __future__ import annotations

from flows.compat import replace_sigterm_bridge, sigterm_bridge
from training.runtime import interruption
from training.runtime.progress import say


def remember_sigterm() -> None:
    """Wrap Prefect's SIGTERM bridge once per process, before any flow installs it. Every flow module imports
    flows.tasks, which calls this: a flow started earlier would install the bridge unwrapped, and Prefect
    would no longer recognise its own handler in a nested flow."""
    bridge = sigterm_bridge()
    if bridge is None:
        # A Prefect that names its bridge otherwise: signals work as Prefect makes them, without the catch-up
        # (tests/flows/test_termination.py and tests/test_compat.py fail: flows/compat.py is the place to adapt).
        say("warning: Prefect's SIGTERM bridge was not found; a SIGTERM Python drops is not raised again")
        return
    if getattr(bridge, "remembers_stop", False):
        return

    def remembering_bridge(sig_num: int, *args: object):
        # Only the signal number is kept: the interrupted frame stays free to be collected.
        interruption.remember(lambda: bridge(sig_num, None))
        bridge(sig_num, *args)

    remembering_bridge.remembers_stop = True
    # capture_sigterm reads the bridge by name on every flow start (to install it and to recognise it in a
    # nested flow), so replacing it here covers every flow of the process.
    replace_sigterm_bridge(remembering_bridge)
