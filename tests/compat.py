"""Every private name of pytest-xdist the suite uses, in one place, with the versions it was read in.

xdist's own `--dist loadgroup` marks do not take with pytest 9.2 (it rewrites a node id attribute that pytest no
longer reads), so the suite's work units are made by a scheduler: xdist's LoadScopeScheduling, whose hooks for
naming a test's unit and handing out units are private. tests/test_compat.py fails when one of these names moves,
or when the installed version leaves CHECKED.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdist.scheduler import LoadScopeScheduling

LIBRARY = "pytest-xdist"
CHECKED = ">=3.8,<3.9"  # read in 3.8.0's source (xdist/scheduler/loadscope.py)
PRIVATE_METHODS = ((LoadScopeScheduling, "_split_scope"), (LoadScopeScheduling, "_assign_work_unit"))


def unit_scheduler(config, log, unit_of: Callable[[str], str], first: Sequence[str]) -> LoadScopeScheduling:
    """xdist's scope scheduler with the suite's units: `unit_of(node id)` names a test's unit; the units in
    `first` are handed out before the others, in that order (xdist orders units by their number of tests, not
    their time, so the long ones go first or become the tail of the run)."""

    class Units(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            for unit in reversed(first):  # each moved to the front in turn
                if unit in self.workqueue:
                    self.workqueue.move_to_end(unit, last=False)
            super()._assign_work_unit(node)

    return Units(config, log)


def missing_names() -> list[str]:
    missing = [f"{owner.__name__}.{name}" for owner, name in PRIVATE_METHODS if not hasattr(owner, name)]
    return missing + ([] if "workqueue" in LoadScopeScheduling.__init__.__code__.co_names else
                      ["LoadScopeScheduling().workqueue"])
