"""Every bad input of issue 7 through the CLI: exit status 2, an `error:` line naming the file, column or value,
and nothing written: no MLflow run (so none left RUNNING), no registered model, no alias."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from flows.__main__ import main


def csv(folder: Path, frame: pd.DataFrame, name: str = "table.csv") -> str:
    frame.to_csv(folder / name, index=False)
    return str(folder / name)


def raw(folder: Path, name: str, content: bytes) -> str:
    (folder / name).write_bytes(content)
    return str(folder / name)


def class_folders(folder: Path, bad: dict[str, bytes]) -> str:
    """Two class folders of 6 small PNG images each, then the `bad` files written over or beside them."""
    from training.serving.images import png_bytes

    root = folder / "images"
    for c, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(6):
            (root / name / f"{i}.png").write_bytes(png_bytes(np.full((4, 4, 1), 40 * c + i, "uint8")))
    for relative, content in bad.items():
        (root / relative).write_bytes(content)
    return str(root)


def npz(folder: Path, **arrays) -> str:
    np.savez(folder / "set.npz", **arrays)
    return str(folder / "set.npz")


# Build functions the cases name as {folder}/<file>.py:build.
BUILD_FILES = {"model.py": "import not_installed_anywhere\n",
               "returns_none.py": "def build(input_shape, n_outputs, units=(8,)):\n    return None\n"}


def good(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n), "y": np.arange(n) % 3})


# name -> (builder of the --data value given a folder, extra arguments, what the error must say)
DATA_CASES = {
    "path that does not exist": (lambda d: str(d / "missing.csv"), ["--target", "y"],
                                 ["missing.csv", "does not exist"]),
    "an empty folder": (lambda d: str(d), ["--target", "y"], ["the folder is empty", "one subfolder per class"]),
    "a text file among the images": (lambda d: class_folders(d, {"cat/notes.txt": b"hello"}), [],
                                     ["cat/notes.txt: not a PNG or JPEG file"]),
    "a corrupt image": (lambda d: class_folders(d, {"dog/1.png": b"\x89PNG\r\n\x1a\n cut"}), [],
                        ["dog/1.png: not a readable PNG or JPEG image"]),
    "an npz without labels": (lambda d: npz(d, x=np.zeros((9, 4, 4), "uint8")), [], ["set.npz: no array named 'y'"]),
    "a build function that cannot be imported": (
        lambda d: "digits", ["--model", "{folder}/model.py:build"], ["model.py failed: ModuleNotFoundError", "line 1"]),
    "a build function that returns no model": (
        lambda d: "digits", ["--model", "{folder}/returns_none.py:build"], ["returned a builtins.NoneType"]),
    "empty file": (lambda d: raw(d, "empty.csv", b""), ["--target", "y"], ["empty.csv is empty"]),
    "PNG renamed .csv": (lambda d: raw(d, "image.csv", b"\x89PNG\r\n\x1a\n" + bytes(64)), ["--target", "y"],
                         ["image.csv", "not a text CSV file"]),
    "header only": (lambda d: raw(d, "header.csv", b"x,y\n"), ["--target", "y"], ["header.csv", "header but no rows"]),
    "target column missing": (lambda d: csv(d, good()), ["--target", "label"],
                              ["target column 'label' not found", "['x', 'z', 'y']"]),
    "single class": (lambda d: csv(d, good().assign(y=1)), ["--target", "y", "--task", "classification"],
                     ["single class 1"]),
    "target all missing": (lambda d: csv(d, good().assign(y=None)), ["--target", "y"], ["'y' is entirely missing"]),
    "class too small for every split": (
        lambda d: csv(d, good().assign(y=[0] * 58 + [1, 1])), ["--target", "y"],
        ["class '1' has only 2 row(s)", "too few to appear in train, validation and test"]),
    "ID-like target": (lambda d: csv(d, good().assign(y=[f"row{i}" for i in range(60)])), ["--target", "y"],
                       ["unique", "like an ID"]),
    "infinite values": (lambda d: csv(d, good().assign(x=[np.inf] + [1.0] * 59)), ["--target", "y"],
                        ["column 'x' has 1 infinite value"]),
    "duplicate column names": (lambda d: raw(d, "dup.csv", b"x,x,y\n" + b"1,2,0\n3,4,1\n" * 30), ["--target", "y"],
                               ["duplicate column names ['x']"]),
    "feature entirely missing": (lambda d: csv(d, good().assign(blank=None)), ["--target", "y"],
                                 ["['blank'] have no values"]),
    "regression target not numeric": (lambda d: csv(d, good().assign(y=["a", "b"] * 30)),
                                      ["--target", "y", "--task", "regression"], ["numeric target", "'y'"]),
    "metric the task does not report": (lambda d: "digits", ["--metric", "val_mae"],
                                        ["metric 'val_mae' is not reported for classification", "val_accuracy"]),
}

CONFIG_CASES = {
    "metric that is not a validation metric": (["--metric", "accuracy"], ["metric 'accuracy'", "val_accuracy"]),
    "zero epochs": (["--epochs", "0"], ["epochs", "greater than 0", "got 0"]),
    "negative epochs": (["--epochs", "-3"], ["epochs", "got -3"]),
    "zero batch size": (["--batch-size", "0"], ["batch_size", "got 0"]),
    "negative fraction": (["--train-fraction", "-0.5"], ["train_fraction", "got -0.5"]),
    "zero fraction": (["--val-fraction", "0"], ["val_fraction", "got 0.0"]),
    "fractions not summing to 1": (["--train-fraction", "0.5"], ["must sum to 1", "0.5", "0.86"]),
    "dask address without a scheme": (["--task-runner", "dask", "--dask-address", "10.0.0.5:8786"],
                                      ["dask_address", "got '10.0.0.5:8786'"]),
    "dask address on threads": (["--dask-address", "tcp://10.0.0.5:8786"],
                                ["dask_address 'tcp://10.0.0.5:8786'", "task_runner='dask'"]),
    "zero dask workers": (["--task-runner", "dask", "--dask-workers", "0"], ["dask_workers", "got 0"]),
    "negative tuner workers": (["--tuner-workers", "-1"], ["tuner_workers", "got -1"]),
}

CHOICE_CASES = {
    "unknown profile": ["--profile", "huge"],
    "unknown task": ["--task", "clustering"],
    "unknown tuner": ["--tuner", "grid"],
    "unknown task runner": ["--task-runner", "spark"],
}


def assert_nothing_written(uri: str) -> None:
    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments) if experiments else []
    assert runs == [], [(r.info.run_name, r.info.status) for r in runs]
    assert client.search_registered_models() == []


@pytest.fixture
def data_loads(monkeypatch) -> list:
    """Every data set the pipeline loads in this test (by name), recorded as it is loaded."""
    import flows.tasks

    loads, real = [], flows.tasks.load_dataset
    monkeypatch.setattr(flows.tasks, "load_dataset", lambda data, *args: loads.append(data) or real(data, *args))
    return loads


def run_cli(args: list[str], uri: str, capsys) -> tuple[int, str]:
    code = main(["run", "--profile", "quick", "--tracking-uri", uri, "--experiment", "bad-input",
                 "--model-name", "bad-input", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", DATA_CASES)
def test_bad_data_fails_the_cli_with_a_named_error_and_writes_nothing(case, tmp_path, tracking_uri, capsys):
    build, extra, expected = DATA_CASES[case]
    folder = tmp_path / "data"
    folder.mkdir()
    data = build(folder)
    for name, text in BUILD_FILES.items():
        (tmp_path / name).write_text(text)
    code, err = run_cli(["--data", data, *(e.format(folder=tmp_path) for e in extra)], tracking_uri, capsys)
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err, err
    for text in expected:
        assert text in err, (text, err)
    assert_nothing_written(tracking_uri)


# The flow refuses data through the same prepare_data as the CLI above (which checks every case and its
# message); here one case of each layer that refuses: the file, its format, its columns, the split, the metric.
FLOW_CASES = ["path that does not exist", "PNG renamed .csv", "target column missing",
              "class too small for every split", "metric the task does not report"]


@pytest.mark.slow
@pytest.mark.parametrize("case", FLOW_CASES)
def test_bad_data_fails_the_flow_run_itself(case, prefect_harness, tmp_path, tracking_uri):
    """What a deployment runs: the flow, with no CLI in front of it."""
    from flows.pipeline import training_pipeline

    build, extra, expected = DATA_CASES[case]
    folder = tmp_path / "data"
    folder.mkdir()
    options = dict(zip([a.removeprefix("--") for a in extra[::2]], extra[1::2], strict=True))
    state = training_pipeline(data=build(folder), profile="quick", tracking_uri=tracking_uri,
                              experiment="bad-input", model_name="bad-input", return_state=True, **options)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    for text in expected:
        assert text in message, (text, message)
    assert_nothing_written(tracking_uri)


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_bad_config_is_refused_before_anything_starts(case, tracking_uri, capsys, data_loads):
    args, expected = CONFIG_CASES[case]
    code, err = run_cli(args, tracking_uri, capsys)
    assert code == 2
    assert err.startswith("error: invalid configuration:"), err
    for text in expected:
        assert text in err, (text, err)
    assert data_loads == []  # refused by the config itself: not even the data was read


def test_the_data_loads_spy_sees_a_run_that_gets_as_far_as_the_data(tracking_uri, capsys, data_loads, tmp_path):
    """The check above can fail: a config that is valid gets as far as loading the data."""
    code, err = run_cli(["--data", str(tmp_path / "missing.csv"), "--target", "y"], tracking_uri, capsys)
    assert code == 2 and "does not exist" in err
    assert data_loads == [str(tmp_path / "missing.csv")]


@pytest.mark.parametrize("case", CHOICE_CASES)
def test_unknown_names_are_refused_with_the_choices(case, tracking_uri, capsys):
    option, value = CHOICE_CASES[case]
    with pytest.raises(SystemExit) as exit_:  # argparse itself: nothing can have started
        run_cli([option, value], tracking_uri, capsys)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"invalid choice: '{value}'" in err and "choose from" in err, err


def test_a_path_with_shell_syntax_is_only_a_name(tmp_path, tracking_uri, capsys):
    marker = tmp_path / "executed"
    path = f"{tmp_path}/x; touch {marker}; $(touch {marker}).csv"
    code, err = run_cli(["--data", path, "--target", "y"], tracking_uri, capsys)
    assert code == 2 and "does not exist" in err and path in err
    assert not marker.exists()
