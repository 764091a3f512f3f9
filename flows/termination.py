"""SIGTERM that ends a flow run even when Python loses the exception Prefect raises for it.

Prefect's SIGTERM bridge raises TerminationSignal in whatever the main thread runs at that moment. When that is
a finalizer or weakref callback, Python prints "Exception ignored in ..." and the flow trains on to the end
(seen in tests/flows/test_signals.py: a cancelled pipeline exited 0 after promoting). The bridge is wrapped so
that it first remembers the stop (training.interruption); the fit path raises it again at its next batch.
"""

from __future__ import annotations

import prefect.utilities.engine as prefect_engine

from training import interruption


def remember_sigterm() -> None:
    """Wrap Prefect's SIGTERM bridge once per process, before any flow installs it."""
    bridge = prefect_engine._prefect_sigterm_handler
    if getattr(bridge, "remembers_stop", False):
        return

    def remembering_bridge(sig_num: int, *args: object):
        interruption.remember(lambda: bridge(sig_num, *args))
        bridge(sig_num, *args)

    remembering_bridge.remembers_stop = True
    # capture_sigterm reads the module's name on every flow start (to install it and to recognise it in a
    # nested flow), so replacing it here covers every flow of the process.
    prefect_engine._prefect_sigterm_handler = remembering_bridge
