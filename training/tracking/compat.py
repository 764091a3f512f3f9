"""Every private name of MLflow this project uses, in one place, with the versions it was read in.

MLflow knows no database as a dataset's source (it resolves files, object stores, HTTP URLs): a table or query is
described by a DatasetSource of our own, whose abstract methods MLflow names privately (`_get_source_type`,
`_can_resolve`, `_resolve`). Nothing else of the project touches a private name of MLflow
(tests/test_private_names.py greps for them); tests/test_compat.py fails when a name moves or the installed
version leaves CHECKED.
"""

from __future__ import annotations

from typing import Any

from mlflow.data.dataset_source import DatasetSource

LIBRARY = "mlflow"
CHECKED = ">=3.17.2,<3.18"  # read in 3.17.2's source (mlflow/data/dataset_source.py)
ABSTRACT = ("_get_source_type", "_can_resolve", "_resolve", "load", "to_dict", "from_dict")


class DatabaseSource(DatasetSource):
    """Rows of a database: its URL (never a password) and the table or query they were read with."""

    def __init__(self, url: str, table: str | None = None, query: str | None = None):
        self.url, self.table, self.query = url, table, query

    @staticmethod
    def _get_source_type() -> str:
        return "database"

    def load(self, **kwargs):
        raise NotImplementedError("read it with training.data.sql.read_sql")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False  # never guessed from a string: made on purpose, for a SQL source

    @classmethod
    def _resolve(cls, raw_source: Any) -> DatabaseSource:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("url", self.url), ("table", self.table), ("query", self.query)) if v}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> DatabaseSource:
        return cls(source_dict["url"], source_dict.get("table"), source_dict.get("query"))


def missing_names() -> list[str]:
    """The hooks above that MLflow's DatasetSource no longer declares (abstract) for a source to fill in."""
    return [f"DatasetSource.{name}" for name in ABSTRACT
            if not getattr(getattr(DatasetSource, name, None), "__isabstractmethod__", False)]
