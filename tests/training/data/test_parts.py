"""Parquet and CSV parts through fsspec: a glob or a folder here, and on a real S3-compatible server (moto's, with
its authentication on) through the standard AWS variables; each failure one DataError naming the source."""

import subprocess
import sys

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from tests.e2e.s3 import s3_server
from training.data.parts import read_parts
from training.data.split import make_split
from training.data.tables import DataError, load_dataset

IRIS = load_iris(as_frame=True).frame


def write_parts(folder, frames, suffix=".parquet"):
    for i, frame in enumerate(frames):
        part = folder / f"day={i + 1:02d}" / f"part-0{suffix}"
        part.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(part) if suffix == ".parquet" else frame.to_csv(part, index=False)
    (folder / "_SUCCESS").write_text("")  # a marker, never rows


def test_a_local_glob_and_a_folder_read_every_part_in_path_order(tmp_path):
    write_parts(tmp_path / "events", [IRIS.iloc[:50], IRIS.iloc[50:100], IRIS.iloc[100:]])
    by_glob = load_dataset(str(tmp_path / "events" / "day=*"), "target")
    assert len(by_glob.frame) == 150 and by_glob.name == "events"
    pd.testing.assert_frame_equal(by_glob.frame, IRIS)
    by_folder = read_parts(str(tmp_path / "events"))
    pd.testing.assert_frame_equal(by_folder, IRIS)


def test_a_part_with_another_schema_is_named(tmp_path):
    renamed = IRIS.iloc[100:].rename(columns={"petal length (cm)": "petal_length"})
    retyped = IRIS.iloc[50:100].astype({"sepal width (cm)": "float32"})
    write_parts(tmp_path / "events", [IRIS.iloc[:50], retyped, renamed])
    with pytest.raises(DataError) as refused:
        read_parts(str(tmp_path / "events" / "day=*"))
    assert "part " in str(refused.value) and "day=02/part-0.parquet has another schema than" in str(refused.value)
    assert "changes types {'sepal width (cm)': 'float64 -> float32'}" in str(refused.value)


def test_a_glob_that_matches_nothing_and_a_folder_without_parts_are_named(tmp_path):
    with pytest.raises(DataError, match=r"day=\*: the pattern matches no Parquet or CSV file"):
        read_parts(str(tmp_path / "day=*"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("no rows here")
    with pytest.raises(DataError, match=r"empty: holds no Parquet or CSV file"):
        read_parts(str(tmp_path / "empty"))


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as server:
        for day, rows in (("2026-12-01", IRIS.iloc[:75]), ("2026-12-02", IRIS.iloc[75:])):
            server.put("nightly", f"events/date={day}/part-0.parquet", rows.to_parquet())
        server.put("nightly", "iris.csv", IRIS.to_csv(index=False).encode())
        yield server


@pytest.fixture
def aws(s3, monkeypatch):
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    return s3


def test_parts_on_an_object_store_read_as_a_local_glob_would(aws):
    dataset = load_dataset("s3://nightly/events/date=2026-12-*/", "target")
    pd.testing.assert_frame_equal(dataset.frame, IRIS)
    assert (dataset.name, dataset.source) == ("events", "s3://nightly/events/date=2026-12-*/")
    one_file = make_split(load_dataset("s3://nightly/iris.csv", "target"), (0.6, 0.2, 0.2), 1)
    assert one_file.dataset_name == "iris" and sum(one_file.rows.values()) == 150


@pytest.mark.parametrize(("data", "message"), [
    ("s3://no-such-bucket/events/", "not found (no such file, folder or bucket)"),
    ("s3://nightly/events/date=2027-*/", "the pattern matches no Parquet or CSV file"),
    ("s3://nightly/events/date=2026-12-01/part-9.parquet", "not found"),
])
def test_a_missing_bucket_key_or_match_is_named(aws, data, message):
    with pytest.raises(DataError) as refused:
        load_dataset(data, "target")
    assert str(refused.value).startswith(data) and message in str(refused.value)


def test_refused_credentials_are_named_and_never_shown(aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGKEYWRONGKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-1234")
    with pytest.raises(DataError) as refused:
        load_dataset("s3://nightly/iris.csv", "target")
    assert "access refused (check the credentials)" in str(refused.value)
    assert "wrong-secret-1234" not in str(refused.value) and aws.secret not in str(refused.value)


def test_without_the_s3_extra_the_error_names_it(aws):
    """As on a machine where s3fs is not installed: fsspec cannot load its S3 driver."""
    script = ("import sys; sys.modules['s3fs'] = None\n"
              "from training.data.tables import load_dataset\n"
              "try:\n    load_dataset('s3://nightly/iris.csv', 'target')\n"
              "except Exception as error:\n    print(type(error).__name__, error)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("DataError s3://nightly/iris.csv: s3:// needs a driver that is not installed; "
                                  "install the `s3` extra: uv sync --extra s3"), done.stdout + done.stderr[-2000:]
