"""Telling "not there" from "cannot ask": the one place that reads MLflow's error codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, ErrorCode

T = TypeVar("T")

NOT_FOUND = {ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), ErrorCode.Name(INVALID_PARAMETER_VALUE)}
# What the command line reports as one error line: a tracking store's refusal (a missing model, a bad URI).
TrackingError = MlflowException


def not_found(error: MlflowException) -> bool:
    """Only a missing run, model or alias counts as 'none': an unreachable server must not look like one."""
    return error.error_code in NOT_FOUND


def none_if_missing(read: Callable[[], T]) -> T | None:
    """`read()`, or None when what it reads does not exist; any other failure passes."""
    try:
        return read()
    except MlflowException as error:
        if not_found(error):
            return None
        raise
