"""Progress lines a person can follow: one per stage and per candidate as it starts and ends."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("keras_mlops")


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, not the stream that was current when it was made
    (test runners and notebooks swap sys.stderr and close the old one)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def show_progress_on_console() -> None:
    """Print progress lines on stderr (the CLI calls this; a Prefect worker forwards the logger instead)."""
    if any(getattr(h, "_keras_mlops", False) for h in logger.handlers):
        return
    handler = _CurrentStderrHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    handler._keras_mlops = True
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def say(message: str) -> None:
    logger.info(message)


def log_tail(path, lines: int = 20) -> str:
    """The last lines of a child process's log, for the error that says why it failed."""
    try:
        return "\n".join(open(path, errors="replace").read().splitlines()[-lines:])
    except OSError:
        return "(no log)"
