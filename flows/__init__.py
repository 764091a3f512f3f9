"""Prefect flows: one per stage plus the pipeline that chains them. Wiring only."""

from training.runtime import apply_environment_defaults

# Before prefect, mlflow or tensorflow are imported by any flow module (a worker imports them directly).
apply_environment_defaults()
