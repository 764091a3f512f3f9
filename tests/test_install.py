"""The install is the locked one: uv.lock pins the tested versions, `make run` and `make test` install from it, and
pyproject.toml bounds every dependency below its next major."""

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())


def test_every_dependency_is_bounded_below_its_next_major():
    project = PYPROJECT["project"]
    extras = [r for extra in project["optional-dependencies"].values() for r in extra]
    requirements = [*project["dependencies"], *extras]
    own = PYPROJECT["project"]["name"]  # an extra may name the project's own other extras
    unbounded = [r for r in requirements if Requirement(r).name != own
                 and not any(s.operator in ("<", "<=", "==") for s in Requirement(r).specifier)]
    assert unbounded == []


def test_the_makefile_bootstraps_the_uv_the_lock_pins():
    makefile = (ROOT / "Makefile").read_text()
    bootstrapped = re.search(r"^UV_VERSION\s*:=\s*(\S+)", makefile, re.M).group(1)
    locked = next(p["version"] for p in LOCK["package"] if p["name"] == "uv")
    assert bootstrapped == locked == metadata.version("uv")


def test_the_suite_runs_in_the_locked_environment():
    """What `make test` installed is exactly what uv.lock says for this machine (and the lock still matches
    pyproject.toml: --locked refuses a stale one)."""
    uv = Path(sys.executable).parent / "uv"
    done = subprocess.run([str(uv), "sync", "--locked", "--inexact", "--extra", "test", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Would make no changes" in done.stdout + done.stderr
