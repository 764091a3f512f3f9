"""A stop that is not lost. Pure: no MLflow, no Prefect; process-wide state.

A signal handler that raises (Prefect turns SIGTERM into TerminationSignal this way) raises wherever the main
thread happens to be. Inside a finalizer or a weakref callback, which garbage collection runs at any moment,
Python only prints "Exception ignored in ..." and the run trains on as if nobody had asked it to stop; inside a
TensorFlow callback, pybind11 turns it into a RuntimeError that looks like a failure. The handler remembers the
stop here first; `check()` at safe points (every batch of a fit, the start and end of every run) raises it
again. It stays asked for until `forget()` (a new root flow run of the process), so every thread that trains
stops, not only the first to look.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import keras

_lock = threading.Lock()
_pending: Callable[[], None] | None = None


def remember(raise_again: Callable[[], None]) -> None:
    """Called by a signal handler before it raises: `raise_again()` raises the same stop from a safe point."""
    global _pending
    with _lock:
        _pending = raise_again


def pending() -> bool:
    """Whether a stop was asked for (an error passing now is then its consequence, not a failure)."""
    return _pending is not None


def forget() -> None:
    """A new run in the same process starts with no stop pending."""
    global _pending
    with _lock:
        _pending = None


def check() -> None:
    """Raise the stop that was asked for, if any."""
    raise_again = _pending
    if raise_again is not None:
        raise_again()


class StopWhenAsked(keras.callbacks.Callback):
    """Raises a pending stop between batches, where an exception reaches the code that ends the runs."""

    def on_train_batch_end(self, batch, logs=None):
        check()

    def on_epoch_end(self, epoch, logs=None):
        check()  # validation runs after the last batch: a stop asked during it is raised here
