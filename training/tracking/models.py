"""Models in MLflow: a candidate's Keras network, the registered pyfunc (network + preprocessing), loading them."""

from __future__ import annotations

import shutil
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
from mlflow.types import Schema, TensorSpec
from mlflow.types.schema import AnyType, ColSpec

from training.data import DataError
from training.preprocessing import Preprocessor
from training.tracking.runs import Tracker

# Packages a served model needs; given explicitly because inferring them re-imports TensorFlow in a
# subprocess and costs 6-9 s per logged model with MLflow 3.17; explicit ones cost ~0.1 s.
MODEL_REQUIREMENTS = ("tensorflow", "keras", "numpy", "pandas")
# The modules of `training` the served model runs (training.serving_model and what it imports), carried with the
# model as its code, so that it loads where nothing but its requirements is installed: no checkout, no pipeline.
# tests/training/test_predict.py checks that they suffice on their own.
SERVED_MODULES = ("__init__.py", "runtime.py", "data_error.py", "evaluation.py", "predict.py", "preprocessing.py")
TRAINING_PACKAGE = Path(__file__).resolve().parents[1]


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
                      example: pd.DataFrame, output: pd.DataFrame) -> str:
    """Log in `run_id` the pyfunc that takes raw rows (network + preprocessing); returns its URI."""
    import training.serving_model as serving

    # Numeric inputs are declared as Any: a column of whole numbers in one file may have gaps (floats)
    # in the next, and MLflow refuses to convert int64 to float64. predict_frame checks the values.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")  # declared Any below
        inferred = infer_signature(example, output)
    signature = ModelSignature(
        inputs=Schema([ColSpec(AnyType(), c.name, required=False) if c.name in preprocessor.numeric else c
                       for c in inferred.inputs.inputs]),
        outputs=inferred.outputs)
    with tempfile.TemporaryDirectory() as folder, tracker.active(run_id), warnings.catch_warnings():
        network_path = Path(folder) / "network.keras"
        network.save(network_path)
        preprocessor_path = preprocessor.save(Path(folder) / "preprocessor.json")
        warnings.filterwarnings("ignore", message=".*input example was not provided.*")
        info = mlflow.pyfunc.log_model(
            name="serving_model", python_model=serving.__file__, code_paths=[str(served_code(Path(folder)))],
            artifacts={"network": str(network_path), "preprocessor": str(preprocessor_path)},
            signature=signature, pip_requirements=model_requirements())
    return info.model_uri


def served_code(folder: Path) -> Path:
    """A `training` package of only the SERVED_MODULES, made in `folder`, for the model's code_paths."""
    package = folder / "code" / "training"
    package.mkdir(parents=True)
    for name in SERVED_MODULES:
        shutil.copyfile(TRAINING_PACKAGE / name, package / name)
    return package


def load_network(model_uri: str) -> keras.Model:
    """A candidate's network, for inference only (its training loss needs not be rebuilt)."""
    return mlflow.keras.load_model(model_uri, load_model_kwargs={"compile": False})


def load_serving_model(model_uri: str):
    """The registered pyfunc (raw rows in, predictions out)."""
    return mlflow.pyfunc.load_model(model_uri)


def load_model_for_scoring(model_uri: str, tracking_uri: str):
    """A registered model for `predict`, or one DataError that names the URI and says why it cannot load."""
    mlflow.set_tracking_uri(tracking_uri)
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except Exception as error:  # MLflow raises several types for a missing model, alias or store
        raise DataError(f"cannot load model {model_uri}: {error}") from error
