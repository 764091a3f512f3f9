"""What the registered model carries, whole: the served pyfunc (pyfunc.py, entered through entry.py), the
preprocessing it was trained with (preprocessing.py, images.py), prediction (predict.py) and its errors.

The package is copied into every registered model under its own name, CARRIED_NAME, so a serving app that has
a `training` package of its own loads it without a clash, and nothing is listed by hand: whatever lies here
travels. Hence two rules, kept by import contracts (pyproject.toml): it imports nothing of `training` outside
itself, and its modules import each other relatively (the copy answers to another name). Its requirements are
numpy, pandas, TensorFlow/Keras and MLflow: a model's own (training.tracking.models.MODEL_REQUIREMENTS).
"""

CARRIED_NAME = "keras_mlops_serving"
