"""Digests of data content: what says "these rows" in MLflow, in the registry and in the no-change check. Pure.

A table's rows are hashed one by one (pandas' `hash_pandas_object`: 64 bits a row from its values and their
types, not its index), an image by its decoded pixels and its label; a digest is the sha256 of the row hashes in
order, after the columns and their types. The same rows in the same order give the same digest; any changed value,
added or dropped row gives another. MLflow keeps at most 36 characters of a dataset's digest: its datasets show the
first 32 hex digits (128 bits), the registry and the pipeline run the whole sha256.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

MLFLOW_DIGEST_LENGTH = 32


def table_row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One uint64 per row of `frame`, from its values (and their types) alone."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype="uint64")


def image_row_hashes(pixels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One uint64 per image: its pixels, its shape and its label."""
    out = np.empty(len(pixels), dtype="uint64")
    for i in range(len(pixels)):
        hasher = hashlib.blake2b(digest_size=8)
        hasher.update(np.ascontiguousarray(pixels[i]).tobytes())
        hasher.update(f"{pixels[i].shape}|{labels[i]}".encode())
        out[i] = int.from_bytes(hasher.digest(), "little")
    return out


def header_of(frame: pd.DataFrame) -> str:
    """The columns and their types: a table whose schema changed has another digest, even with equal values."""
    return "\x1f".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items())


def digest(row_hashes: np.ndarray, header: str) -> str:
    """The sha256 of `header` and the row hashes in order (hex, 64 characters)."""
    hasher = hashlib.sha256(header.encode())
    hasher.update(np.ascontiguousarray(row_hashes, dtype="uint64").tobytes())
    return hasher.hexdigest()


def short(full: str) -> str:
    """A digest as MLflow's dataset entity holds it."""
    return full[:MLFLOW_DIGEST_LENGTH]
