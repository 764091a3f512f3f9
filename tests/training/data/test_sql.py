"""A database as the source: every row of a table or a query, read in chunks, in an order of their own; each failure
one DataError naming the source and the database's reason. On SQLite files here; PostgreSQL in
tests/e2e/test_data_sources.py."""

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from training.data.split import make_split
from training.data.sql import read_sql
from training.data.tables import DataError, load_dataset


@pytest.fixture
def database(tmp_path) -> str:
    frame = load_wine(as_frame=True).frame
    days = pd.date_range("2026-11-01", periods=len(frame), freq="6h").astype(str).to_numpy()
    frame.insert(0, "day", np.random.default_rng(0).permutation(days))  # rows arrive in no order of time
    with sqlite3.connect(tmp_path / "warehouse.db") as connection:
        frame.to_sql("events", connection, index=False)
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


def test_a_table_is_read_whole_in_chunks_and_a_query_reads_its_rows(database):
    table = read_sql(database, table="events", chunk_rows=50)
    assert table.shape == (178, 15)
    query = read_sql(database, query="select alcohol, target from events where target = 0", chunk_rows=7)
    assert list(query.columns) == ["alcohol", "target"] and len(query) == 59


def test_the_same_rows_in_another_order_are_the_same_data(database, tmp_path):
    """A database promises no order: the rows are put in one of their own, so the split and the digest are those
    of the rows, not of the order the database returned them in."""
    shuffled = tmp_path / "shuffled.db"
    frame = pd.read_sql("select * from events", sqlite3.connect(database.removeprefix("sqlite:///")))
    with sqlite3.connect(shuffled) as connection:
        frame.sample(frac=1.0, random_state=5).to_sql("events", connection, index=False)
    one = make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3)
    two = make_split(load_dataset(f"sqlite:///{shuffled}", "target", table="events"), (0.6, 0.2, 0.2), 3)
    assert one.data_digest == two.data_digest and one.split_digests == two.split_digests
    assert one.fingerprint == two.fingerprint
    assert one.source.endswith("warehouse.db table events") and one.dataset_name == "events"


def test_new_rows_change_the_digest(database):
    before = make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3)
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        connection.execute("insert into events select * from events limit 3")
    after = make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3)
    assert before.data_digest != after.data_digest and len(before.data_digest) == 64


def test_out_of_time_the_newest_rows_are_tested(database):
    split = make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3, split_by="day")
    rows = pd.read_sql("select * from events", sqlite3.connect(database.removeprefix("sqlite:///")))
    newest = rows.sort_values("day").tail(split.rows["test"])
    assert sorted(split.test_frame["proline"]) == sorted(newest["proline"])
    assert "day" not in split.preprocessor.input_columns  # the time is how rows are split, not a feature
    assert split.rows == {"train": 106, "val": 36, "test": 36}


def test_out_of_time_a_class_only_the_newest_rows_have_is_named(database):
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        connection.execute("update events set day = replace(day, '2026', '2027') where target = 2")
    with pytest.raises(DataError, match=r"labels \['2'\] unseen in training"):
        make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3, split_by="day")


@pytest.mark.parametrize(("table", "query", "message"), [
    ("evnets", None, "no table 'evnets'; the database has ['events']"),
    (None, "select * from events where target = 7", "no rows (columns ["),
    (None, "select * from nowhere", "no such table: nowhere"),
])
def test_a_missing_table_an_empty_query_and_a_bad_one_are_named(database, table, query, message):
    with pytest.raises(DataError) as refused:
        load_dataset(database, "target", table=table, query=query)
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{database} ")


def test_a_query_without_the_target_column_names_it(database):
    with pytest.raises(DataError, match=r"query select alcohol from events: target column 'target' not found; "
                                        r"columns are \['alcohol'\]"):
        load_dataset(database, "target", query="select alcohol from events")


def test_a_missing_or_unreadable_time_column_is_named(database):
    with pytest.raises(DataError, match=r"split_by column 'nope' not found among the features"):
        make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3, split_by="nope")
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        connection.execute("update events set day = 'the day after' where rowid = 5")
    with pytest.raises(DataError, match=r"split_by column 'day' holds values like .*: not times, dates or numbers"):
        make_split(load_dataset(database, "target", table="events"), (0.6, 0.2, 0.2), 3, split_by="day")
