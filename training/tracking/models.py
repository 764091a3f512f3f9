"""Models in MLflow: a candidate's Keras network, the registered pyfunc (network + preprocessing), loading them."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import warnings
from importlib import metadata
from pathlib import Path

import keras
import mlflow
import mlflow.keras
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, DataType, Schema, TensorSpec

import training.serving as serving
from training.model.families import loaded_source, split_reference, user_module_name
from training.serving.errors import DataError
from training.serving.images import IMAGE_COLUMN, ImagePreprocessor
from training.serving.predict import as_numbers, predict_frame
from training.serving.preprocessing import Preprocessor
from training.tracking.runs import Tracker

# Packages a served model needs; given explicitly because inferring them re-imports TensorFlow in a
# subprocess and costs 6-9 s per logged model with MLflow 3.17; explicit ones cost ~0.1 s.
MODEL_REQUIREMENTS = ("tensorflow", "keras", "numpy", "pandas")
# The package every registered model carries whole, under its own name (training.serving).
SERVING_PACKAGE = Path(serving.__file__).resolve().parent


def model_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


def log_keras_model(model: keras.Model, preprocessor: Preprocessor) -> str:
    """Log the model (keras flavor, signature, explicit requirements) and its preprocessing, in the
    active candidate run; returns the model URI (`models:/m-...` in MLflow 3)."""
    # The signature comes from the model's shapes: inferring it from a prediction would trace a new
    # predict function for every candidate.
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype("float32"), (-1, *model.input_shape[1:]), "features")]),
        outputs=Schema([TensorSpec(np.dtype("float32"), (-1, *model.output_shape[1:]))]),
    )
    info = mlflow.keras.log_model(model, name="model", signature=signature, pip_requirements=model_requirements())
    mlflow.log_dict(preprocessor.to_dict(), "preprocessing/preprocessor.json")
    return info.model_uri


def log_serving_model(tracker: Tracker, run_id: str, network: keras.Model, preprocessor: Preprocessor,
                      raw_rows: pd.DataFrame, user_model: str | None = None, data_profile: dict | None = None) -> str:
    """Log in `run_id` the pyfunc that takes raw rows (network + preprocessing), with a typed signature and a
    few of `raw_rows` as its input example; returns its URI. `user_model`: a user's build function
    (path/to/file.py:function); its file, as it was imported for training, is carried as code and imported before
    the network loads, so the custom layers it registers are found. `data_profile`: the profile of the data it
    was made from (training.checks.profile), carried as artifacts/data_profile.json: what the next night's data
    is compared with while it is champion."""
    example = input_example(raw_rows, preprocessor)
    with warnings.catch_warnings():  # of the outputs: integer class labels, never missing
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
        outputs = infer_signature(example, predict_frame(network, preprocessor, example)).outputs
    signature = ModelSignature(inputs=input_schema(preprocessor), outputs=outputs)
    carried_name()
    with tempfile.TemporaryDirectory() as folder, tracker.active(run_id):
        network_path = Path(folder) / "network.keras"
        network.save(network_path)
        preprocessor_path = preprocessor.save(Path(folder) / "preprocessor.json")
        artifacts = {"network": str(network_path), "preprocessor": str(preprocessor_path)}
        if data_profile is not None:
            artifacts["data_profile"] = str(Path(folder) / "data_profile.json")
            Path(artifacts["data_profile"]).write_text(json.dumps(data_profile))
        code, modules = [str(carried_package(Path(folder)))], []
        if user_model is not None:
            modules.append(user_module_name(split_reference(user_model)[0]))
            carried = Path(folder) / "code" / f"{modules[0]}.py"
            carried.write_bytes(loaded_source(user_model))
            code.append(str(carried))
        # The example is written as input_example.json and serving_input_example.json (a request body that
        # `mlflow models predict -i` and `validate_serving_input` take); MLflow checks it against the signature.
        info = mlflow.pyfunc.log_model(
            name="serving_model", python_model=str(SERVING_PACKAGE / "entry.py"), code_paths=code,
            model_config={"user_modules": modules},
            artifacts=artifacts,
            signature=signature, input_example=example, pip_requirements=model_requirements())
    return info.model_uri


def logged_model_id(model_uri: str) -> str:
    """The LoggedModel id in a `models:/m-...` URI (MLflow 3), to which evaluations link their metrics."""
    return model_uri.removeprefix("models:/").split("/")[0]


def input_schema(preprocessor: Preprocessor) -> Schema:
    """Numeric columns as `double` and categorical ones as `string`, each required. A value may be missing
    (null): the preprocessing imputes it as in training. Double, not long, even for a column of whole numbers:
    such a column with one missing value is float in pandas, which MLflow never converts to long. JSON requests
    are cast to these types by MLflow's parser, so `5` is a fine value for a double column. An image model
    takes one string column, `image`: the base64 text of a PNG or JPEG file."""
    if isinstance(preprocessor, ImagePreprocessor):
        return Schema([ColSpec(DataType.string, IMAGE_COLUMN)])
    return Schema([ColSpec(DataType.double, c) for c in preprocessor.numeric]
                  + [ColSpec(DataType.string, c) for c in preprocessor.categorical])


def input_example(raw_rows: pd.DataFrame, preprocessor: Preprocessor, rows: int = 3) -> pd.DataFrame:
    """A few complete rows (JSON has no NaN) of the input columns, with the declared types."""
    frame = raw_rows[preprocessor.input_columns]
    complete = frame.dropna()
    frame = as_numbers(complete if len(complete) else frame, preprocessor.numeric).head(rows)
    # Strings where there are values (a category may be read as numbers); a missing one stays missing.
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].isna(), frame[c].astype(str))
                           for c in preprocessor.categorical}).reset_index(drop=True)


def declared_numeric(model) -> list[str]:
    """The input columns a pyfunc declares as numbers (none for a model logged with `Any` inputs)."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return []
    return [c.name for c in schema.inputs if c.type in (DataType.double, DataType.float, DataType.long,
                                                          DataType.integer)]


def carried_package(folder: Path) -> Path:
    """A copy of training.serving named as the model carries it, made in `folder`, for the model's code_paths
    (MLflow copies a folder into the model's `code/` under its own name, which is on sys.path at load)."""
    return Path(shutil.copytree(SERVING_PACKAGE, folder / "code" / serving.CARRIED_NAME,
                                ignore=shutil.ignore_patterns("__pycache__")))


def carried_name() -> None:
    """Make the carried name answer with training.serving in this process: the model's entry imports
    `keras_mlops_serving.pyfunc` when MLflow logs it (it runs the entry to check the input example) and when
    this process loads a model, and that must be this checkout's code, one set of classes, not a second copy
    from a model's folder. Elsewhere, in a clean environment, the name finds the copy the model carries."""
    import training.serving.pyfunc as pyfunc

    sys.modules.setdefault(serving.CARRIED_NAME, serving)
    sys.modules.setdefault(f"{serving.CARRIED_NAME}.pyfunc", pyfunc)


def load_network(model_uri: str) -> keras.Model:
    """A candidate's network, for inference only (its training loss needs not be rebuilt)."""
    return mlflow.keras.load_model(model_uri, load_model_kwargs={"compile": False})


class RawRowsModel:
    """A served pyfunc fed rows as read from a file: its numeric columns are checked (a row that is no number is
    named) and given the declared float type first, so whole numbers read as int64 are welcome too."""

    def __init__(self, model):
        self.model = model
        self.numeric = declared_numeric(model)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.model.predict(as_numbers(frame, self.numeric))


def load_serving_model(model_uri: str) -> RawRowsModel:
    """The registered pyfunc (raw rows in, predictions out)."""
    carried_name()
    return RawRowsModel(mlflow.pyfunc.load_model(model_uri))


def load_model_for_scoring(model_uri: str, tracking_uri: str) -> RawRowsModel:
    """A registered model for `predict`, or one DataError that names the URI and says why it cannot load."""
    mlflow.set_tracking_uri(tracking_uri)
    try:
        return load_serving_model(model_uri)
    except Exception as error:  # MLflow raises several types for a missing model, alias or store
        raise DataError(f"cannot load model {model_uri}: {error}") from error
