"""The registered model's entry, MLflow's "model from code": the file MLflow runs to get the pyfunc.

It imports the served package by the name the model carries it under (training.serving.CARRIED_NAME): in a
clean environment that is the copy in the model's `code/` folder; in the process that logs or loads it, the
tracking layer makes the name answer with training.serving itself (training.tracking.models.carried_name).
"""

from keras_mlops_serving.pyfunc import ServingModel
from mlflow.models import set_model

set_model(ServingModel())
