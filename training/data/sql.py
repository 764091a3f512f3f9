"""The rows of a database table or query, read with pandas in chunks through SQLAlchemy.

Credentials come from the environment only: KERAS_MLOPS_DATA_PASSWORD is given to the connection as the password
of the URL's user (any dialect), and a driver's own variables work as they always do (PGPASSWORD and ~/.pgpass for
PostgreSQL). Every failure is one DataError that names the source, never its password, and the database's reason.

A database returns the rows of a table in no promised order (PostgreSQL's synchronized scans start where another
scan is), so the rows are put in one order of their own, by their content hash, before they are split: the same
rows split the same way every night, whatever order they came in.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from training.data.columns import concatenated, reordered
from training.data.digest import table_row_hashes
from training.data.sources import described
from training.serving.errors import DataError

CHUNK_ROWS = 10_000  # rows of Python objects between the driver and pandas at once: few, so the peak is the table's
PASSWORD_VARIABLE = "KERAS_MLOPS_DATA_PASSWORD"
CONNECT_TIMEOUT_S = 15  # an unreachable host is reported, not waited on for the driver's default minutes


def engine_for(url: str):
    """An engine for `url` with the password from the environment, and a connect timeout where the driver has
    one (psycopg, the PostgreSQL default)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if password := os.environ.get(PASSWORD_VARIABLE):
        parsed = parsed.set(password=password)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(parsed, connect_args=connect_args)


def read_sql(url: str, table: str | None = None, query: str | None = None,
             chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Every row of `table` (`schema.table` too), or of `query`, in content order (see the module's text)."""
    from sqlalchemy import MetaData, Table, inspect, text
    from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

    where = described(url, table, query)
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            if table:
                schema, _, name = table.rpartition(".")
                try:
                    statement = Table(name, MetaData(), schema=schema or None, autoload_with=connection).select()
                except NoSuchTableError:
                    known = inspect(connection).get_table_names(schema=schema or None)
                    raise DataError(f"{where}: no table {table!r}; the database has {sorted(known)}") from None
            else:
                statement = text(query)
            streamed = connection.execution_options(stream_results=True, max_row_buffer=chunk_rows)
            frame = concatenated(pd.read_sql(statement, streamed, chunksize=chunk_rows))
    except DataError:
        raise
    except (SQLAlchemyError, pd.errors.DatabaseError) as error:  # pandas wraps the database's own in its own
        raise DataError(f"{where}: {reason(error.__cause__ or error)}") from error
    finally:
        engine.dispose()
    if len(frame) == 0:
        columns = [str(c) for c in frame.columns]
        raise DataError(f"{where}: no rows" + (f" (columns {columns})" if columns else ""))
    return reordered(frame, np.argsort(table_row_hashes(frame), kind="stable"))


def reason(error: Exception) -> str:
    """The database's own message, on one line, without the statement SQLAlchemy adds or a password."""
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split("\n[SQL:")[0].split("(Background on this error")[0].split())
    if password := os.environ.get(PASSWORD_VARIABLE):
        text = text.replace(password, "***")
    return text[:500]
