"""A data set's profile: what tonight's data is compared with, next night, when this night's model is champion.

Per column: its kind (number, category, boolean, time) and type, rows and null fraction; for numbers the decile
edges with the share of rows between each pair, min and max, and a small seeded sample (the KS test's, where a
night has few rows); for categories the share of each (of the top ones and the rest, past a thousand of them).
The target's distribution; for images the classes, the size and channels they are read at, and each channel's
mean and spread. Computed a column at a time from the table as it is loaded (no second copy of it), and kept as
plain JSON with every registered version (data_profile.json). Pure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

NUMBER, CATEGORY, BOOLEAN, TIME = "number", "category", "boolean", "time"
DECILES = np.linspace(0.0, 1.0, 11)
TOP_CATEGORIES = 20
MAX_KEPT_CATEGORIES = 1000  # above this many distinct values, only the top ones are kept
OTHER = "(other)"
SAMPLE_ROWS = 500  # a numeric column's sample, for the KS test


@dataclass
class ColumnProfile:
    name: str
    kind: str  # NUMBER, CATEGORY, BOOLEAN or TIME
    dtype: str
    rows: int
    null_fraction: float
    minimum: float | None = None
    maximum: float | None = None
    edges: list[float] = field(default_factory=list)  # decile edges, 11 (fewer where values repeat)
    fractions: list[float] = field(default_factory=list)  # the share of rows in each bin between edges
    sample: list[float] = field(default_factory=list)
    # category -> share of the non-null rows: every category while there are at most MAX_KEPT_CATEGORIES, else the
    # TOP_CATEGORIES and "(other)" for the rest
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether `shares` names every category (so a category not among them is one never seen)."""
        return OTHER not in self.shares


@dataclass
class DataProfile:
    rows: int
    task: str
    target: str
    columns: dict[str, ColumnProfile]
    label: dict[str, float]  # class -> share (classification), or the target's own numeric profile's deciles
    label_profile: ColumnProfile | None = None  # a regression target's profile
    images: dict | None = None  # classes' counts, height, width, channels, channel means and spreads

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DataProfile:
        columns = {name: ColumnProfile(**column) for name, column in data["columns"].items()}
        label_profile = ColumnProfile(**data["label_profile"]) if data.get("label_profile") else None
        return cls(rows=data["rows"], task=data["task"], target=data["target"], columns=columns,
                   label=data["label"], label_profile=label_profile, images=data.get("images"))

    @property
    def features(self) -> list[str]:
        return list(self.columns)


def kind_of(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(values):
        return NUMBER
    if pd.api.types.is_datetime64_any_dtype(values):
        return TIME
    return CATEGORY


def column_profile(name: str, values: pd.Series, seed: int = 0) -> ColumnProfile:
    """One column's profile; numbers and times by their deciles, categories and booleans by their shares."""
    kind = kind_of(values)
    rows, nulls = len(values), int(values.isna().sum())
    profile = ColumnProfile(name=str(name), kind=kind, dtype=str(values.dtype), rows=rows,
                            null_fraction=nulls / rows if rows else 0.0)
    present = values.dropna()
    if kind in (NUMBER, TIME) and len(present):
        numbers = numeric(present)
        profile.minimum, profile.maximum = float(numbers.min()), float(numbers.max())
        edges = np.unique(np.quantile(numbers, DECILES))
        profile.edges = [float(e) for e in edges]
        profile.fractions = [float(f) for f in bin_shares(numbers, edges)]
        chosen = np.random.default_rng(seed).choice(len(numbers), size=min(SAMPLE_ROWS, len(numbers)), replace=False)
        profile.sample = [float(v) for v in numbers[np.sort(chosen)]]
    elif len(present):
        counts = present.astype(str).value_counts()
        shares = counts / counts.sum()
        kept = shares if len(shares) <= MAX_KEPT_CATEGORIES else shares.head(TOP_CATEGORIES)
        profile.shares = {str(k): float(v) for k, v in kept.items()}
        if len(kept) < len(shares):
            profile.shares[OTHER] = float(shares.iloc[len(kept):].sum())
    return profile


def numeric(values: pd.Series) -> np.ndarray:
    """The values as float64 (times as nanoseconds since the epoch)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("int64").to_numpy(dtype="float64")
    return values.to_numpy(dtype="float64")


def bin_shares(numbers: np.ndarray, edges: list[float] | np.ndarray) -> np.ndarray:
    """The share of `numbers` in each bin the edges make: the first bin takes everything below the second edge
    and the last everything above the second-to-last (today's values outside the reference's range land in the
    outer bins); one bin when there is a single edge."""
    edges = np.asarray(edges, dtype="float64")
    if len(numbers) == 0:
        return np.zeros(max(1, len(edges) - 1))
    if len(edges) < 2:
        return np.ones(1)
    inner = edges[1:-1]
    counts = np.bincount(np.searchsorted(inner, numbers, side="right"), minlength=len(edges) - 1)
    return counts / len(numbers)


def profile_table(frame: pd.DataFrame, target: str, task: str, seed: int = 0,
                  exclude: tuple[str, ...] = ()) -> DataProfile:
    """The profile of a table: every feature column but those in `exclude`, and the target's distribution."""
    columns = {str(c): column_profile(c, frame[c], seed) for c in frame.columns if c != target and c not in exclude}
    labels, label_profile = {}, None
    if task == "classification":
        counts = frame[target].astype(str).value_counts()
        labels = {str(k): float(v / counts.sum()) for k, v in counts.sort_index().items()}
    else:
        label_profile = column_profile(target, frame[target], seed)
    return DataProfile(rows=len(frame), task=task, target=str(target), columns=columns, label=labels,
                       label_profile=label_profile)


def profile_images(labels: pd.Series, target: str, shape: tuple[int, int, int], pixels, unreadable: int = 0,
                   images_read: int = 0) -> DataProfile:
    """The profile of images: their classes, the size and channels they are read at, each channel's mean and
    spread over `pixels` (an iterable of uint8 arrays, N x H x W x C), and how many of the `images_read` files
    could not be decoded."""
    counts = labels.astype(str).value_counts()
    sums, squares, count = np.zeros(shape[2]), np.zeros(shape[2]), 0
    for chunk in pixels:
        values = np.asarray(chunk, dtype="float64").reshape(-1, shape[2])
        sums += values.sum(axis=0)
        squares += (values**2).sum(axis=0)
        count += len(values)
    means = sums / max(count, 1)
    spreads = np.sqrt(np.maximum(squares / max(count, 1) - means**2, 0.0))
    return DataProfile(rows=int(len(labels)), task="classification", target=str(target), columns={},
                       label={str(k): float(v / counts.sum()) for k, v in counts.sort_index().items()},
                       images={"height": shape[0], "width": shape[1], "channels": shape[2],
                               "mode": {1: "L", 3: "RGB"}.get(shape[2], str(shape[2])),
                               "channel_means": [float(m) for m in means],
                               "channel_spreads": [float(s) for s in spreads],
                               "class_counts": {str(k): int(v) for k, v in counts.sort_index().items()},
                               "images_read": int(images_read or len(labels)), "unreadable": int(unreadable)})
