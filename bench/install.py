"""How long a fresh clone takes to install: `make .venv/.installed-test` (the virtualenv, the project and the test
extras) in a new clone, first with the package caches emptied (a new machine), then again with them full (a second
checkout), side by side in one session. With --before REV, an earlier commit is measured the same way first.

    make bench-install ARGS="--before 383958a"      # the install before the lock (pip), then this checkout (uv)

It empties ~/.cache/pip and ~/.cache/uv for the cold runs: they refill as the installs run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import record, table

ROOT = Path(__file__).resolve().parents[1]
CACHES = (Path.home() / ".cache" / "pip", Path.home() / ".cache" / "uv")


def commit_of(rev: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def install_seconds(rev: str, cold: bool, folder: Path) -> float:
    """A fresh clone of this checkout at `rev`, installed the way its Makefile says."""
    clone = folder / f"{rev}-{'cold' if cold else 'warm'}"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", rev], cwd=clone, check=True)
    if cold:
        for cache in CACHES:
            shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(["make", ".venv/.installed-test"], cwd=clone, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"install of {rev} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    shutil.rmtree(clone)
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="REV", help="an earlier commit to measure first, the same way")
    args = parser.parse_args(argv)
    revs = [r for r in (args.before, "HEAD") if r]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-install-") as folder:
        for rev in revs:
            cold = install_seconds(rev, True, Path(folder))
            warm = install_seconds(rev, False, Path(folder))
            how = "uv sync from uv.lock" if (ROOT / "uv.lock").exists() and subprocess.run(
                ["git", "cat-file", "-e", f"{rev}:uv.lock"], cwd=ROOT).returncode == 0 else "pip install -e"
            rows.append({"commit": commit_of(rev), "install": how, "cold caches s": round(cold, 1),
                         "warm caches s": round(warm, 1)})
    ratios = ""
    if len(rows) == 2:
        ratios = (f"\n\nNow against before: **{rows[1]['cold caches s'] / rows[0]['cold caches s']:.2f}x** the time "
                  f"with cold caches, **{rows[1]['warm caches s'] / rows[0]['warm caches s']:.2f}x** with warm ones.")
    record("install", "Install: a fresh clone's `make .venv/.installed-test`",
           "The virtualenv, the project and its test extras in a new clone; cold: ~/.cache/pip and ~/.cache/uv "
           f"emptied first.\n\n{table(rows)}{ratios}")


if __name__ == "__main__":
    main()
