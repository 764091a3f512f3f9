"""The rows of Parquet and CSV files, read through fsspec as pandas reads them: one file by URL
(s3://bucket/key.parquet, https://host/file.csv), a folder of parts (s3://bucket/events/), or a glob of files or
folders (s3://bucket/events/date=2026-12-*/, data/parts/*.parquet), here or in an object store.

The parts are read in the order of their paths, each checked against the first: another set of columns, or
another type of a column, is named with its part, since a table that changes its schema halfway is no table.
Object stores take their endpoint and keys from the standard variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, ...), so MinIO or any S3-compatible store works. Their drivers are optional extras
(s3fs: `keras-mlops[s3]`); a missing one is named in the error.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

import pandas as pd

from training.data.columns import concatenated
from training.data.sources import EXTRAS, GLOB, TABLE_SUFFIXES, redacted, scheme
from training.serving.errors import DataError

# A part whose name starts so is a marker or a hidden file (_SUCCESS, .crc, .DS_Store), never rows.
NOT_PARTS = ("_", ".")


def filesystem(location: str):
    """(fsspec file system, path) of `location`; a missing driver is named with the extra that brings it."""
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(location, skip_instance_cache=True)  # credentials read anew on every call
    except ImportError as error:
        extra = EXTRAS.get(scheme(location))
        how = f"install the `{extra}` extra: uv sync --extra {extra} (or pip install 'keras-mlops[{extra}]')" \
            if extra else "install the fsspec driver it names"
        raise DataError(f"{redacted(location)}: {scheme(location)}:// needs a driver that is not installed; {how} "
                        f"({error})") from None


def is_part(path: str) -> bool:
    name = PurePosixPath(path).name
    return not name.startswith(NOT_PARTS) and PurePosixPath(name).suffix.lower() in TABLE_SUFFIXES


def part_paths(fs, path: str, location: str) -> list[str]:
    """The table files `location` names, in path order: itself, the parts in a folder, or every file a glob
    matches (a matched folder's parts too)."""
    where = redacted(location)
    http = type(fs).__name__ == "HTTPFileSystem"  # no listing over HTTP: a URL is one file
    if http:
        return [path]
    globbed = GLOB.search(path) is not None
    try:
        matches = fs.glob(path) if globbed else [path]
        found, exists = [], False
        for match in matches:
            if fs.isdir(match):
                exists = True
                found += [f for f in fs.find(match) if is_part(f)]
            elif fs.exists(match):
                exists = True
                if not globbed or is_part(match):
                    found.append(match)
    except (OSError, ValueError) as error:
        raise DataError(f"{where}: {unreadable(error)}") from error
    if not found:
        if globbed:
            raise DataError(f"{where}: the pattern matches no Parquet or CSV file")
        raise DataError(f"{where}: " + ("holds no Parquet or CSV file" if exists else
                                        "not found (no such file, folder or bucket)"))
    return sorted(found)


def read_parts(location: str) -> pd.DataFrame:
    """Every row of every part, in path order, each part's columns and types checked against the first's."""
    fs, path = filesystem(location)

    def checked_parts():
        first = None
        for part in part_paths(fs, path, location):
            frame = read_part(fs, part, location)
            if first is None:
                first = (part, frame.iloc[:0])
            else:
                check_same_schema(first, part, frame, location)
            yield frame

    return concatenated(checked_parts())


def read_part(fs, part: str, location: str) -> pd.DataFrame:
    where = f"{redacted(location)}: part {part}" if part.rstrip("/") != location.rstrip("/") else redacted(location)
    suffix = PurePosixPath(part).suffix.lower()
    try:
        with fs.open(part, "rb") as handle:
            if suffix in (".parquet", ".pq"):
                return parquet_frame(handle)
            data = handle.read()
    except (OSError, ValueError) as error:
        raise DataError(f"{where}: {unreadable(error)}") from error
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{where}: not a readable Parquet file: {error}") from error
    sep = "\t" if suffix == ".tsv" else ","
    try:
        text = data.decode("utf-8")
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise DataError(f"{where}: duplicate column names {duplicated}; every column needs a unique name")
        return pd.read_csv(io.StringIO(text), sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{where}: could not be parsed as CSV: {error}") from error


def parquet_frame(source) -> pd.DataFrame:
    """A Parquet file (a path or an open file) as a frame, its Arrow buffers freed column by column as they are
    converted and given back after: pandas' own read keeps a copy in Arrow's memory pool, 3 to 4 times the table
    (make bench-data)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pq.read_table(source).to_pandas(split_blocks=True, self_destruct=True)
    pa.default_memory_pool().release_unused()
    return frame


def check_same_schema(first: tuple[str, pd.DataFrame], part: str, frame: pd.DataFrame, location: str) -> None:
    name, reference = first
    ours, theirs = dict(frame.dtypes.astype(str)), dict(reference.dtypes.astype(str))
    if ours == theirs:
        return
    missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    retyped = {c: f"{theirs[c]} -> {ours[c]}" for c in theirs if c in ours and theirs[c] != ours[c]}
    what = "; ".join(part for part in (f"lacks {missing}" if missing else "", f"adds {extra}" if extra else "",
                                       f"changes types {retyped}" if retyped else "") if part)
    raise DataError(f"{redacted(location)}: part {part} has another schema than {name}: it {what}")


def unreadable(error: Exception) -> str:
    """What the store said, on one line: a missing key or bucket, refused credentials, ..."""
    kind = {FileNotFoundError: "not found", PermissionError: "access refused (check the credentials)"}.get(
        type(error), type(error).__name__)
    text = " ".join(str(error).split())
    return f"{kind}: {text}"[:500] if text else kind
