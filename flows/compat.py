"""Every private name of Prefect this project uses, in one place, with the versions it was read in.

Prefect turns SIGTERM into an exception inside a flow through a handler of its own, which it looks up by name
on every flow start (to install it, and to recognise it in a nested flow). flows/termination.py wraps that
handler so that a stop Python drops is raised again; there is no public hook for it. Nothing else of the project
touches a private name of Prefect (tests/test_private_names.py greps for them). tests/flows/test_compat.py fails
when the name moves, or when the installed version leaves CHECKED: then read the new version's source, mend this
module, and widen the range.
"""

from __future__ import annotations

from collections.abc import Callable

import prefect.utilities.engine as engine

LIBRARY = "prefect"
CHECKED = ">=3.9.1,<3.10"  # read in 3.9.1's source (prefect/utilities/engine.py: capture_sigterm)
SIGTERM_BRIDGE = "_prefect_sigterm_handler"


def sigterm_bridge() -> Callable | None:
    """Prefect's SIGTERM bridge as capture_sigterm will install it; None where Prefect names it otherwise."""
    return getattr(engine, SIGTERM_BRIDGE, None)


def replace_sigterm_bridge(bridge: Callable) -> None:
    """What capture_sigterm installs from now on, in every flow of this process."""
    setattr(engine, SIGTERM_BRIDGE, bridge)


def missing_names() -> list[str]:
    return [] if sigterm_bridge() is not None else [f"prefect.utilities.engine.{SIGTERM_BRIDGE}"]
