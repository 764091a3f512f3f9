"""The error that names a bad input, and plain values: shared by the served model's preprocessing and the data
readers of training.data (which raise the same DataError)."""

from __future__ import annotations


class DataError(ValueError):
    """Input data that cannot be used; the message says what is wrong and where."""


def plain(value):
    """A numpy scalar as the Python value a user would write (1, not np.int64(1))."""
    return value.item() if hasattr(value, "item") else value
