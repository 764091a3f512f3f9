import numpy as np
import pandas as pd
import pytest

from training.data.tables import DataError, infer_task, load_dataset


def write_csv(tmp_path, frame, name="table.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_bundled_digits_loads_as_classification():
    dataset = load_dataset("digits")
    assert dataset.frame.shape == (1797, 65)
    assert dataset.target == "target"
    assert dataset.task == "classification"


def test_bundled_diabetes_is_regression():
    assert load_dataset("diabetes").task == "regression"


def test_csv_and_parquet_go_through_the_same_code(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "color": ["a", "b", "a", "b"], "y": [0, 1, 0, 1]})
    from_csv = load_dataset(write_csv(tmp_path, frame), "y")
    frame.to_parquet(tmp_path / "table.parquet")
    from_parquet = load_dataset(str(tmp_path / "table.parquet"), "y")
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame)
    assert from_csv.task == "classification"


def test_rows_with_missing_target_are_dropped_and_counted(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, None, 1, None]})
    dataset = load_dataset(write_csv(tmp_path, frame), "y")
    assert len(dataset.frame) == 2
    assert dataset.dropped_missing_target == 2


def test_task_inference():
    assert infer_task(pd.Series([0, 1, 2, 1])) == "classification"
    assert infer_task(pd.Series(["cat", "dog"])) == "classification"
    assert infer_task(pd.Series([0.5, 1.25, 3.0])) == "regression"
    assert infer_task(pd.Series(np.arange(100))) == "regression"


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv.*does not exist.*digits"):
        load_dataset(str(tmp_path / "nope.csv"), "y")


def test_a_folder_is_read_as_images_and_a_table_in_it_is_pointed_at(tmp_path):
    with pytest.raises(DataError, match="the folder is empty; images go in one subfolder per class"):
        load_dataset(str(tmp_path), "y")
    (tmp_path / "table.csv").write_text("x,y\n1,0\n")
    with pytest.raises(DataError, match=r"table.csv: a file beside the class folders.*pass the file itself: "
                                        r"--data .*table.csv"):
        load_dataset(str(tmp_path), "y")


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        load_dataset(str(tmp_path / "empty.csv"), "y")


def test_png_renamed_csv(tmp_path):
    (tmp_path / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(DataError, match="not a text CSV file"):
        load_dataset(str(tmp_path / "image.csv"), "y")


def test_header_only(tmp_path):
    (tmp_path / "header.csv").write_text("x,y\n")
    with pytest.raises(DataError, match="header but no rows"):
        load_dataset(str(tmp_path / "header.csv"), "y")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "table.xlsx").write_text("x")
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        load_dataset(str(tmp_path / "table.xlsx"), "y")


def test_bad_parquet(tmp_path):
    (tmp_path / "table.parquet").write_text("not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(str(tmp_path / "table.parquet"), "y")


def test_missing_target_lists_the_columns(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    with pytest.raises(DataError, match=r"target column 'label' not found; columns are \['a', 'b'\]"):
        load_dataset(path, "label")


def test_file_needs_a_target(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    with pytest.raises(DataError, match="--target"):
        load_dataset(path)


def test_single_class(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1, 1, 1]}))
    with pytest.raises(DataError, match="single class 1"):
        load_dataset(path, "y", "classification")


def test_target_all_missing(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"x": [1.0, 2.0], "y": [None, None]}))
    with pytest.raises(DataError, match="'y' is entirely missing"):
        load_dataset(path, "y")


def test_id_like_target(tmp_path):
    frame = pd.DataFrame({"x": np.arange(30.0), "id": [f"row{i}" for i in range(30)]})
    with pytest.raises(DataError, match="unique.*like an ID"):
        load_dataset(write_csv(tmp_path, frame), "id")


def test_infinite_values(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"x": [1.0, np.inf, 3.0], "y": [0, 1, 0]}))
    with pytest.raises(DataError, match="column 'x' has 1 infinite value"):
        load_dataset(path, "y")


def test_duplicate_column_names(tmp_path):
    (tmp_path / "dup.csv").write_text("x,x,y\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match=r"duplicate column names \['x'\]"):
        load_dataset(str(tmp_path / "dup.csv"), "y")


def test_feature_entirely_missing(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"x": [1.0, 2.0], "blank": [None, None], "y": [0, 1]}))
    with pytest.raises(DataError, match=r"\['blank'\] have no values"):
        load_dataset(path, "y")


def test_regression_target_must_be_numeric(tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}))
    with pytest.raises(DataError, match="regression needs a numeric target.*'y'"):
        load_dataset(path, "y", "regression")
