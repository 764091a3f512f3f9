"""The team's data where it lives, for real on 127.0.0.1: a PostgreSQL table and query (password from the
environment), Parquet parts on an S3-compatible server (moto's, authentication on). Every bad input through the
CLI: exit 2, one `error:` line naming the source and the cause, nothing written. Whole pipelines on both, through
workers of the nightly and manual deployments, are in tests/e2e/test_deployments.py."""

import os

import pytest
from sklearn.datasets import load_wine

from flows.__main__ import main
from tests.e2e.postgres import postgres_server
from tests.e2e.s3 import s3_server
from tests.flows.test_bad_input import assert_nothing_written
from tests.support import free_port
from training.data.split import make_split
from training.data.sql import PASSWORD_VARIABLE
from training.data.tables import DataError, load_dataset

pytestmark = pytest.mark.e2e
WINE = load_wine(as_frame=True).frame


@pytest.fixture(scope="module")
def warehouse():
    """A PostgreSQL server with a `warehouse` database holding the wine table as `sales.events`."""
    import sqlalchemy

    with postgres_server("warehouse") as server:
        engine = sqlalchemy.create_engine(server.url)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("create schema sales"))
        WINE.to_sql("events", engine, schema="sales", index=False)
        engine.dispose()
        yield server


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as server:
        server.put("nightly", "events/date=2026-12-01/part-0.parquet", WINE.iloc[:90].to_parquet())
        server.put("nightly", "events/date=2026-12-02/part-0.parquet", WINE.iloc[90:].to_parquet())
        retyped = WINE.iloc[90:].astype({"magnesium": "int64"})
        server.put("nightly", "drifting/date=2026-12-01/part-0.parquet", WINE.iloc[:90].to_parquet())
        server.put("nightly", "drifting/date=2026-12-02/part-0.parquet", retyped.to_parquet())
        yield server


def url(server, host: str | None = None, port: int | None = None) -> str:
    """The database's URL as a team writes it: no password (it comes from the environment)."""
    return f"postgresql://{server.user}@{host or server.host}:{port or server.port}/{server.database}"


def test_a_table_and_a_query_are_read_with_the_password_from_the_environment(warehouse, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, warehouse.password)
    dataset = load_dataset(url(warehouse), "target", table="sales.events")
    assert dataset.frame.shape == WINE.shape and dataset.name == "events"
    assert dataset.source == f"{url(warehouse)} table sales.events"
    query = load_dataset(url(warehouse), "target", query="select alcohol, proline, target from sales.events "
                                                          "where alcohol > 13")
    assert list(query.frame.columns) == ["alcohol", "proline", "target"]
    assert len(query.frame) == (WINE.alcohol > 13).sum()
    # The driver's own variable works as well; a worker may hold either.
    monkeypatch.delenv(PASSWORD_VARIABLE)
    monkeypatch.setenv("PGPASSWORD", warehouse.password)
    split = make_split(load_dataset(url(warehouse), "target", table="sales.events"), (0.6, 0.2, 0.2), 0)
    assert sum(split.rows.values()) == len(WINE) and len(split.data_digest) == 64


def test_refused_credentials_and_an_unreachable_host_are_named_without_the_password(warehouse, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "not-the-password-9f3a")
    with pytest.raises(DataError) as refused:
        load_dataset(url(warehouse), "target", table="sales.events")
    assert "password authentication failed" in str(refused.value)
    assert "not-the-password-9f3a" not in str(refused.value) and warehouse.password not in str(refused.value)
    with pytest.raises(DataError) as unreachable:
        load_dataset(url(warehouse, port=free_port()), "target", table="sales.events")
    assert "Connection refused" in str(unreachable.value) or "connection failed" in str(unreachable.value)


@pytest.fixture
def credentials(warehouse, s3, monkeypatch):
    """What a worker holds: the database's password and the object store's keys, in its environment."""
    monkeypatch.setenv(PASSWORD_VARIABLE, warehouse.password)
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)


BAD_SOURCES = {
    "unreachable database": (lambda w: url(w, port=free_port()), ["--table", "sales.events"],
                             ["table sales.events: ", "onnection"]),
    "missing table": (lambda w: url(w), ["--table", "sales.evnts"], ["no table 'sales.evnts'", "['events']"]),
    "query with no rows": (lambda w: url(w), ["--query", "select * from sales.events where target > 5"],
                           ["no rows (columns ["]),
    "query without the target column": (lambda w: url(w), ["--query", "select alcohol from sales.events"],
                                        ["target column 'target' not found", "['alcohol']"]),
    "glob matching nothing": (lambda w: "s3://nightly/events/date=2027-*/", [], ["matches no Parquet or CSV file"]),
    "missing bucket": (lambda w: "s3://no-such-bucket/events/", [], ["not found (no such file, folder or bucket)"]),
    "a part with another schema": (lambda w: "s3://nightly/drifting/", [],
                                   ["date=2026-12-02/part-0.parquet has another schema",
                                    "'magnesium': 'float64 -> int64'"]),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_a_bad_source_exits_2_naming_it_and_writes_nothing(case, warehouse, credentials, tracking_uri, capsys):
    data, extra, expected = BAD_SOURCES[case]
    code = main(["run", "--profile", "quick", "--data", data(warehouse), "--target", "target", *extra,
                 "--tracking-uri", tracking_uri, "--experiment", "bad-source", "--model-name", "bad-source"])
    error = capsys.readouterr().err
    assert code == 2, error
    assert error.startswith("error: ") and len(error.strip().splitlines()) == 1, error
    assert all(words in error for words in expected), error
    assert warehouse.password not in error and os.environ["AWS_SECRET_ACCESS_KEY"] not in error
    assert_nothing_written(tracking_uri)
