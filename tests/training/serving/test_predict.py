import json
import warnings
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from training.config import Selection
from training.data.split import make_split
from training.data.tables import DataError, validate_table
from training.method.fit import fit
from training.model.spec import ModelSpec
from training.serving.predict import predict_frame
from training.tracking.models import load_serving_model, log_serving_model
from training.tracking.runs import Tracker


def validate_serving_input(model_uri: str, request) -> pd.DataFrame:
    """MLflow's check of a request against a model, in this process. Deprecated in MLflow 3.13 for
    `mlflow.models.predict` in an isolated env, which the end-to-end test runs; this is its quick twin."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*validate_serving_input.*")
        return mlflow.models.validate_serving_input(model_uri, request)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    n = 150
    frame = pd.DataFrame({
        "size": rng.normal(10, 3, n),
        "count": rng.integers(0, 50, n),
        "color": rng.choice(["red", "green", "blue"], n),
    })
    frame["label"] = np.where(frame["size"] + (frame["color"] == "red") * 3 > 11, "big", "small")
    frame.loc[::17, "size"] = np.nan  # gaps, imputed from train statistics
    frame.loc[::23, "color"] = None
    split = make_split(validate_table(frame, "label", "classification", "t", "inline"), (0.64, 0.16, 0.2), 0)
    result = fit(ModelSpec(units=(8,), epochs=3, batch_size=16), split, Selection("val_accuracy", "max"), seed=0)
    return split, result.model


def test_raw_rows_give_the_same_predictions_as_the_preprocessed_split(trained):
    split, model = trained
    out = predict_frame(model, split.preprocessor, split.test_frame)  # raw, unscaled, with the target column
    expected = model.predict(split.x_test, verbose=0)
    assert list(out.columns) == ["prediction", "proba_big", "proba_small"]
    np.testing.assert_allclose(out[["proba_big", "proba_small"]].to_numpy(), expected, rtol=1e-5)
    assert out["prediction"].tolist() == [split.preprocessor.classes[i] for i in expected.argmax(axis=1)]
    assert len(out) == len(split.test_frame)


def test_unscorable_rows_are_named(trained):
    split, model = trained
    frame = split.test_frame.head(4).copy()
    frame["size"] = frame["size"].astype(object)
    frame.loc[2, "size"] = "ten"
    with pytest.raises(DataError, match=r"column 'size' is not a finite number in row\(s\) 3 \(e.g. 'ten'\)"):
        predict_frame(model, split.preprocessor, frame)
    with pytest.raises(DataError, match=r"columns \['color'\] are missing"):
        predict_frame(model, split.preprocessor, split.test_frame.drop(columns=["color"]))


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory):
    split, model = trained
    tracker = Tracker(f"sqlite:///{tmp_path_factory.mktemp('serving')}/mlflow.db", "serving-test")
    raw = split.test_frame.drop(columns=["label"])
    with tracker.run("promotion") as run_id:
        uri = log_serving_model(tracker, run_id, model, split.preprocessor, raw)
    assert tracker.client.get_run(run_id).info.status == "FINISHED"
    return uri, raw


def test_the_serving_pyfunc_matches_and_ships_its_preprocessing(trained, served):
    split, model = trained
    uri, raw = served
    assert raw["count"].dtype == "int64"  # whole numbers, as read from a file, meet the declared double
    out = load_serving_model(uri).predict(raw)
    pd.testing.assert_frame_equal(out, predict_frame(model, split.preprocessor, raw))


def test_the_signature_is_typed_and_the_logged_example_is_a_valid_request(served):
    uri, _ = served
    schema = mlflow.models.get_model_info(uri).signature.inputs
    assert {c.name: (c.type.name, c.required) for c in schema.inputs} == {
        "size": ("double", True), "count": ("double", True), "color": ("string", True)}
    folder = Path(mlflow.artifacts.download_artifacts(uri))
    example = (folder / "serving_input_example.json").read_text()
    answer = validate_serving_input(uri, example)
    assert list(answer.columns) == ["prediction", "proba_big", "proba_small"]
    assert len(answer) == len(json.loads(example)["dataframe_split"]["data"]) == 3
    # A JSON request with whole numbers and a missing value is cast to the declared types and imputed.
    request = {"dataframe_split": {"columns": ["size", "count", "color"], "data": [[10, 3, "red"], [None, 7, None]]}}
    assert len(validate_serving_input(uri, request)) == 2


def test_a_request_with_a_wrong_column_is_refused_naming_it(served):
    uri, _ = served
    request = {"dataframe_split": {"columns": ["size", "cuont", "color"], "data": [[10.5, 3, "red"]]}}
    with pytest.raises(MlflowException, match=r"missing inputs \['count'\].*extra inputs: \['cuont'\]"):
        validate_serving_input(uri, request)
    with pytest.raises(DataError, match=r"column 'count' is not a finite number in row\(s\) 1 \(e.g. 'many'\)"):
        load_serving_model(uri).predict(pd.DataFrame({"size": [1.0], "count": ["many"], "color": ["red"]}))


def test_the_carried_package_suffices_on_its_own(tmp_path):
    """What the registered model carries as its code, training.serving copied under its own name, imports nothing
    else of the project nor the pipeline's own libraries, and a `training` package of the serving app's (here one
    that cannot even be imported) is no clash: the model's entry runs where only its requirements are."""
    import subprocess
    import sys

    from training.serving import CARRIED_NAME
    from training.tracking.models import carried_package

    code = carried_package(tmp_path).parent
    (code / "training").mkdir()
    (code / "training" / "__init__.py").write_text("raise ImportError('the serving app owns this name')\n")
    check = f"""
import runpy, sys
sys.path.insert(0, {str(code)!r})
runpy.run_path({str(code / CARRIED_NAME / "entry.py")!r})
import mlflow.models.model
served = mlflow.models.model.__mlflow_model__
assert type(served).__module__ == "{CARRIED_NAME}.pyfunc", type(served).__module__
project = sorted(m for m in sys.modules if m.split(".")[0] in ("training", "flows", "tuning"))
assert not project, project
heavy = [m for m in ("prefect", "keras_tuner") if m in sys.modules]
assert not heavy, heavy
print("only the carried package")
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "only the carried package"
