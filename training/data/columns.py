"""Tables assembled and reordered a column at a time, so that a large table is held about once, not twice.

`pd.concat` of a table's pieces holds every piece and the whole result at once (twice the table), and so does
`frame.take(order)`; here each column is made, then its pieces (or its old order) are dropped before the next:
the peak is the table and one column. `make bench-data` measures it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def concatenated(pieces: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `pieces` (frames of the same columns) one after the other, as pd.concat(..., ignore_index=True)
    makes them; each piece is split into its columns as it arrives."""
    columns: dict[str, list[pd.Series]] = {}
    order: list[str] = []
    for count, piece in enumerate(pieces, start=1):
        if not order:
            order = list(piece.columns)
        for name in piece.columns:
            # A copy of its own: a column of a piece is a view into the piece's block, which would stay whole
            # until the last of its columns is assembled.
            columns.setdefault(name, []).append(piece[name].copy())
        del piece
        if count % 10 == 0:
            trim_freed_memory()  # what a driver's Python objects held, given back as the pieces come
    if not order:
        return pd.DataFrame()
    out = {}
    for name in order:
        parts = columns.pop(name)
        out[name] = parts[0].reset_index(drop=True) if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        del parts
        trim_freed_memory()  # the column's pieces, freed into the heap: given back before the next is made
    return pd.DataFrame(out, copy=False)


def reordered(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """`frame.take(order)` with a fresh index, a column at a time: each column of `frame` is dropped once its
    reordered copy is made (`frame` is emptied)."""
    out = {}
    for name in list(frame.columns):
        out[name] = frame[name].take(order).reset_index(drop=True)
        del frame[name]
    trim_freed_memory()
    return pd.DataFrame(out, copy=False)


def trim_freed_memory() -> None:
    """Give freed memory back to the system. The pieces of a table (a driver's rows in Python objects, chunks of
    columns smaller than glibc's mmap threshold) are freed into the heap, which glibc keeps otherwise: 1M rows from
    PostgreSQL left 1.2 GB resident after their rows had gone (make bench-data)."""
    import ctypes
    import ctypes.util

    library = ctypes.util.find_library("c")
    if library:
        libc = ctypes.CDLL(library)
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
