"""What the data loader and the served model's preprocessing share: the error that names a bad input, and
plain values. Kept free of the loader's own imports (pydantic, scikit-learn), so the registered model can carry
it to a serving environment that has only the model's requirements."""

from __future__ import annotations


class DataError(ValueError):
    """Input data that cannot be used; the message says what is wrong and where."""


def plain(value):
    """A numpy scalar as the Python value a user would write (1, not np.int64(1))."""
    return value.item() if hasattr(value, "item") else value
