"""The suite's own layout: what keeps `make test` within its time on two workers."""

import re
from pathlib import Path

from tests.conftest import SHARED_PIPELINES

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_that_shares_a_session_pipeline_runs_in_the_shared_unit():
    """A module using the quick or regression pipeline outside SHARED_PIPELINES would train it a second time,
    on the other worker."""
    users = {str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")
             if path.name != "test_suite_layout.py"
             and re.search(r"\b(quick_pipeline|regression_pipeline)\b", path.read_text())}
    assert users == set(SHARED_PIPELINES)
