"""Which reader a `--data` value names: a bundled set, images, a local file, a glob or folder of Parquet/CSV parts
(on this machine or in an object store), or a SQL database. No reading here.

- a bundled name: scikit-learn's sets (tables), and digits-images;
- a SQLAlchemy URL (postgresql://host/db, sqlite:///file.db, any dialect SQLAlchemy knows) with a table or a
  query (training.data.sql);
- an fsspec URL: an object store (s3://bucket/key.parquet; s3fs, the `s3` extra) or HTTP (https://.../file.csv),
  a folder of parts (s3://bucket/events/) or a glob of them (s3://bucket/events/date=2026-12-*/), read by
  training.data.parts; a local glob (data/parts/*.parquet) too;
- a local path: a CSV/Parquet file, or images (a folder of class folders, an .npz archive).

Credentials never travel in `--data`: a URL with a password is refused (the value is a flag, a deployment
parameter and a run param, all readable); databases take theirs from the environment (KERAS_MLOPS_DATA_PASSWORD,
or the driver's own: PGPASSWORD, ~/.pgpass), object stores from the standard AWS variables.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

BUNDLED_DATASETS = ("digits", "wine", "breast_cancer", "iris", "diabetes")
# Image sets made from scikit-learn's bundled ones: no download (digits-images: the 8x8 digits as images).
BUNDLED_IMAGE_SETS = ("digits-images",)
IMAGE_ARCHIVE_SUFFIXES = (".npz",)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
# fsspec's protocols that hold files; anything SQLAlchemy knows as a dialect is a database instead.
REMOTE_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "http", "https", "hdfs", "webhdfs",
                    "file", "memory", "sftp", "ftp")
# Which package each object store needs: an optional extra of keras-mlops, named in the error when it is missing.
EXTRAS = {"s3": "s3", "s3a": "s3"}
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
GLOB = re.compile(r"[*?\[]")
BUNDLED, BUNDLED_IMAGES, IMAGES, FILE, PARTS, SQL = "bundled", "bundled-images", "images", "file", "parts", "sql"
KIND_NAMES = {BUNDLED: "a bundled table", BUNDLED_IMAGES: "bundled images", IMAGES: "images", FILE: "a file",
              PARTS: "files (a URL, a folder or a glob of parts)", SQL: "a database"}


class SourceError(ValueError):
    """A `--data` value that names no reader, or that holds a credential; the message says what to pass."""


def is_url(data: str) -> bool:
    return bool(URL.match(data))


def scheme(data: str) -> str:
    return data.split("://", 1)[0].lower()


def is_sql(data: str) -> bool:
    """Whether `data` is a URL of a database SQLAlchemy has a dialect for."""
    if not is_url(data) or scheme(data).split("+")[0] in REMOTE_PROTOCOLS:
        return False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(data).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        return False
    return True


def kind_of(data: str) -> str:
    """The reader of `data`: BUNDLED, BUNDLED_IMAGES, IMAGES, FILE, PARTS or SQL; a SourceError otherwise."""
    if data in BUNDLED_DATASETS:  # a bundled table, even where a folder of that name exists
        return BUNDLED
    if data in BUNDLED_IMAGE_SETS:
        return BUNDLED_IMAGES
    if is_url(data):
        if scheme(data) in REMOTE_PROTOCOLS:
            return PARTS
        if is_sql(data):
            return SQL
        raise SourceError(f"--data {redacted(data)}: {scheme(data)}:// is neither a database SQLAlchemy knows "
                          "(postgresql://, sqlite:///, mysql://, ...) nor a file system fsspec reads (s3://, gs://, "
                          "https://, ...)")
    if GLOB.search(data):
        return PARTS
    path = Path(data).expanduser()
    if path.suffix.lower() in IMAGE_ARCHIVE_SUFFIXES or path.is_dir():
        return IMAGES
    return FILE


def is_image_source(data: str) -> bool:
    """Whether `data` names images: the bundled image set, an .npz archive, or a folder of class folders."""
    try:
        return kind_of(data) in (BUNDLED_IMAGES, IMAGES)
    except SourceError:
        return False


def credential_in(data: str) -> str | None:
    """What credential `data` holds, if any: a password in a URL's user info."""
    if is_url(data) and urlsplit(data).password is not None:
        return "a password"
    return None


def redacted(data: str | None) -> str | None:
    """`data` as records and messages show it: a URL's password as *** (http://user:***@host)."""
    if not data or not is_url(data):
        return data
    parts = urlsplit(data)
    if parts.password is None:
        return data
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def described(data: str, table: str | None = None, query: str | None = None) -> str:
    """The source a run records: where the rows came from, without credentials, with the table or query."""
    if table:
        return f"{redacted(data)} table {table}"
    if query:
        return f"{redacted(data)} query {' '.join(query.split())}"
    return redacted(data)


def parts_name(location: str) -> str:
    """The data set's name for parts: the last folder or file before any glob or partition (key=value)
    component: `events` for s3://bucket/events/date=2026-12-*/, `train` for s3://bucket/train.parquet."""
    components = [c for c in location.split("://", 1)[-1].split("/") if c]
    kept = []
    for component in components:
        if GLOB.search(component) or "=" in component:
            break
        kept.append(component)
    return Path(kept[-1]).stem if kept else "parts"
