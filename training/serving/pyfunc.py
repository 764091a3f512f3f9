"""The registered model: the trained Keras network plus its preprocessing, as one MLflow pyfunc.

Logged as "model from code" (entry.py), so no pickled object is ever loaded: the network is a native `.keras`
file read with Keras' safe mode, the preprocessing plain JSON. Raw rows (or images, as base64 text in an `image`
column) in, labels out, for `mlflow.pyfunc.load_model`, `python -m flows predict` and `mlflow models serve` alike.
"""

from __future__ import annotations

import importlib

import keras
import mlflow.pyfunc
import pandas as pd

from .images import load_preprocessor
from .predict import predict_frame


class ServingModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        # A user's build function's file, carried as code: importing it registers its custom layers.
        for module in (context.model_config or {}).get("user_modules", []):
            importlib.import_module(module)
        self.network = keras.saving.load_model(context.artifacts["network"], safe_mode=True, compile=False)
        self.preprocessor = load_preprocessor(context.artifacts["preprocessor"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        return predict_frame(self.network, self.preprocessor, model_input)
