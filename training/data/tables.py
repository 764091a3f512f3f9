"""Load a table (a bundled scikit-learn data set or a user's CSV/Parquet file) and validate it.

Every problem ends in a DataError whose message names the file, column or value at fault and what to do.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from training.data.parts import parquet_frame, read_parts
from training.data.sources import (
    BUNDLED,
    BUNDLED_DATASETS,
    PARTS,
    SQL,
    SourceError,
    described,
    is_image_source,
    kind_of,
    parts_name,
    redacted,
)
from training.data.sql import read_sql
from training.serving.errors import DataError, plain

__all__ = ["DataError", "Dataset", "load_dataset", "read_table", "validate_table", "infer_task", "plain"]

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
# A target with at most this many distinct integer values is read as classes when the task is `auto`.
MAX_AUTO_CLASSES = 20
BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"%PDF")


@dataclass(frozen=True)
class Dataset:
    """A validated table: features plus target, rows with a missing target already dropped."""

    frame: pd.DataFrame
    target: str
    task: str
    name: str
    source: str
    dropped_missing_target: int
    # Images: (height, width, channels) every image is decoded and resized to; None for a table.
    image_shape: tuple[int, int, int] | None = None
    # Where the rows were read, as --data, --table and --query said it (never with a password: the config refuses
    # one): what MLflow's datasets name as their source.
    origin: tuple[str | None, str | None, str | None] = (None, None, None)
    # Images of a folder left out because they cannot be decoded ("path: reason"), fewer than
    # max_unreadable_share of them (training.data.image_sources.readable_only).
    unreadable: tuple[str, ...] = ()
    images_read: int = 0  # the folder's image files, readable or not

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.target]


def load_dataset(source: str, target: str | None = None, task: str = "auto",
                 image_size: tuple[int, int] | None = None, table: str | None = None,
                 query: str | None = None, max_unreadable_share: float = 0.0) -> Dataset:
    """Load `source` and validate it for `task` ('auto', 'classification' or 'regression'): a table from a file, from
    Parquet/CSV parts here or in an object store, or from a database's `table` or `query` (training.data.sources
    says which); images (a folder of class folders, an .npz archive, `digits-images`) are classified, at
    `image_size` or the first image's size; a folder's images that cannot be decoded are left out while they are
    at most `max_unreadable_share` of them, and refuse the data above it."""
    if is_image_source(source):
        return replace(load_images(source, task, image_size, max_unreadable_share), origin=(source, None, None))
    frame, name, uri, default_target = _read_table(source, table, query)
    target = target or default_target
    if target is None:
        raise DataError(f"{uri}: name the target column with --target; columns are {_columns(frame)}")
    return replace(validate_table(frame, target=target, task=task, name=name, source=uri),
                   origin=(source, table, query))


def validate_table(frame: pd.DataFrame, target: str, task: str, name: str, source: str) -> Dataset:
    where = source
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise DataError(f"{where}: duplicate column names {duplicated}; every column needs a unique name")
    if len(frame) == 0:
        raise DataError(f"{where}: has a header but no rows")
    if target not in frame.columns:
        raise DataError(f"{where}: target column {target!r} not found; columns are {_columns(frame)}")
    if frame.shape[1] < 2:
        raise DataError(f"{where}: only the target column {target!r}; there are no feature columns")

    missing_target = frame[target].isna()
    if missing_target.all():
        raise DataError(f"{where}: target column {target!r} is entirely missing ({len(frame)} rows, no value)")
    dropped = int(missing_target.sum())
    if dropped:  # else the table as it is: a large one is not copied for nothing
        frame = frame.loc[~missing_target].reset_index(drop=True)

    features = frame.drop(columns=[target])
    empty = [str(c) for c in features.columns if features[c].isna().all()]
    if empty:
        raise DataError(f"{where}: feature column(s) {empty} have no values at all; drop them from the file")
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            infinite = int(np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if infinite:
                raise DataError(
                    f"{where}: column {column!r} has {infinite} infinite value(s); replace them or leave them empty"
                )

    task = infer_task(frame[target]) if task == "auto" else task
    _check_target(frame[target], target, task, where)
    return Dataset(frame=frame, target=target, task=task, name=name, source=source, dropped_missing_target=dropped)


def load_images(source: str, task: str, image_size: tuple[int, int] | None,
                max_unreadable_share: float = 0.0) -> Dataset:
    from training.data.image_sources import LABEL, first_image_shape, read_image_source, readable_only

    if task == "regression":
        raise DataError(f"{source}: images are classified by their folder or label; --task regression takes a table")
    frame, name, uri = read_image_source(source)
    images_read = len(frame)
    frame, unreadable = readable_only(frame, uri, max_unreadable_share)
    height, width, channels = first_image_shape(frame)
    # Grayscale or colour, as the first image; an alpha channel is dropped (JPEG has none, nor has a plot).
    shape = (*(tuple(image_size) if image_size else (height, width)), {1: 1, 2: 1, 3: 3, 4: 3}[channels])
    _check_target(frame[LABEL], LABEL, "classification", uri)
    return Dataset(frame=frame, target=LABEL, task="classification", name=name, source=uri,
                   dropped_missing_target=0, image_shape=shape, unreadable=unreadable, images_read=images_read)


def infer_task(target: pd.Series) -> str:
    """Classes when the target is categorical or a handful of integers; otherwise a regression."""
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return "classification"
    values = target.to_numpy(dtype="float64")
    integral = bool(np.all(np.mod(values, 1) == 0))
    return "classification" if integral and target.nunique() <= MAX_AUTO_CLASSES else "regression"


def _check_target(target: pd.Series, name: str, task: str, where: str) -> None:
    if task == "classification":
        classes = target.nunique()
        if classes < 2:
            raise DataError(
                f"{where}: target column {name!r} has a single class {plain(target.iloc[0])!r}; "
                "classification needs at least two"
            )
        if classes == len(target) and len(target) > MAX_AUTO_CLASSES:
            raise DataError(
                f"{where}: every value of target column {name!r} is unique ({classes} rows), like an ID; "
                "choose a real label column, or --task regression for a numeric target"
            )
    elif not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        example = plain(target.iloc[0])
        raise DataError(
            f"{where}: regression needs a numeric target, but column {name!r} holds values like {example!r}; "
            "use --task classification for labels"
        )


def read_table(source: str) -> pd.DataFrame:
    """Just the table of a bundled set, a file or parts (for scoring: no target needed), with the same checks."""
    return _read_table(source)[0]


def _read_table(source: str, table: str | None = None,
                query: str | None = None) -> tuple[pd.DataFrame, str, str, str | None]:
    """(frame, data set name, source as recorded, default target column)."""
    try:
        kind = kind_of(source)
    except SourceError as error:
        raise DataError(str(error)) from None
    if kind == BUNDLED:
        from sklearn import datasets  # imported here: it is slow and only bundled sets need it

        bunch = getattr(datasets, f"load_{source}")(as_frame=True)
        return bunch.frame, source, f"sklearn.datasets.load_{source}", "target"
    if kind == SQL:
        if not (table or query):
            raise DataError(f"{redacted(source)} is a database: name the rows with --table or --query")
        name = table.rpartition(".")[2] if table else "query"
        return read_sql(source, table, query), name, described(source, table, query), None
    if kind == PARTS:
        return read_parts(source), parts_name(source), redacted(source), None

    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(
            f"data file {str(path)!r} does not exist; pass a CSV or Parquet file, "
            f"or a bundled data set: {', '.join(BUNDLED_DATASETS)}"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(path)
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    else:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .csv or .parquet")
    return frame, path.stem, str(path.resolve()), None


def _read_csv(path: Path) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(BINARY_SIGNATURES) or b"\x00" in head:
        raise DataError(f"{path}: not a text CSV file (it looks binary); export the table as CSV or Parquet")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        # pandas renames duplicate headers ('a', 'a.1'); read the header as written to catch them.
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle, delimiter=sep), [])
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise DataError(f"{path}: duplicate column names {duplicated}; every column needs a unique name")
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: no columns found ({error})") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: could not be parsed as CSV: {error}") from error


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return parquet_frame(path)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: not a readable Parquet file: {error}") from error


def _columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]
