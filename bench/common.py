"""What every benchmark shares: the machine it ran on, timers, and writing its section of bench/RESULTS.md.

Benchmarks measure side by side in one process run and report ratios; nothing here asserts a time.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import flows  # noqa: F401  (quiet TF/MLflow/Prefect environment first)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    accelerator = f"{len(gpus)} GPU(s)" if gpus else "no GPU (CPU only)"
    return f"{os.cpu_count()} cores, {cpu}, {accelerator}, Python {platform.python_version()}, TF {tf.__version__}"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timer(into: dict, key: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        into[key] = time.perf_counter() - started


def table(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[k]) for k in header) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def record(name: str, title: str, body: str) -> None:
    """Replace this benchmark's section of RESULTS.md (or append it), with the command, machine and date."""
    command = f"make bench-{name}   (python -m bench.{name} {' '.join(sys.argv[1:])})".rstrip()
    section = (f"<!-- bench:{name} -->\n## {title}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
               f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n{body.strip()}\n<!-- /bench:{name} -->")
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by `make bench`; each " \
        "section by its own benchmark. Ratios are measured side by side in one run.\n"
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
    print(section)


def epoch_timer(times: list[float]):
    """A Keras callback appending each epoch's seconds to `times`."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    return EpochTimer()
