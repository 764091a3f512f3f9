"""The data a run touched, as MLflow datasets (`mlflow.log_input`): which rows made a model is one search.

Each split of the data is a dataset of its own: the data set's name, its source (a path, a URL, or a database and
its table or query; never a password), the digest of that split's rows (training.data.digest), its schema, and a
profile of rows, columns and class counts with the whole sha256. The split run logs the three (contexts
`training`, `validation`, `test`); every candidate and tuner trial logs the two it was trained and judged on; the
promotion and the champion's evaluation log the test rows. So

    mlflow.search_runs(filter_string="dataset.digest = '<digest>' and dataset.context = 'training'")

finds every run that trained on one night's rows.
"""

from __future__ import annotations

import warnings

import mlflow
import pandas as pd
from mlflow.data.pandas_dataset import PandasDataset

from training.data.digest import short
from training.data.sources import SQL, kind_of, redacted
from training.data.split import Split
from training.tracking.compat import DatabaseSource

CONTEXTS = {"train": "training", "val": "validation", "test": "test"}
SCHEMA_ROWS = 200  # the schema is read from a sample of the raw rows: their columns and types


class ProfiledDataset(PandasDataset):
    """A PandasDataset whose profile is the split's own (all its rows), not that of the sample it holds."""

    def __init__(self, *args, profile: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.split_profile = profile

    @property
    def profile(self) -> dict:
        return self.split_profile


def source_of(split: Split):
    """MLflow's source of the rows: a database (its URL and table or query), else the location MLflow resolves
    (a path, an object store, HTTP), or the recorded description."""
    data, table, query = split.origin
    if data and kind_of(data) == SQL:
        return DatabaseSource(redacted(data), table, query)
    return redacted(data) if data and "://" in data else split.source


def split_datasets(split: Split) -> dict[str, PandasDataset]:
    """The three datasets of a split, by context; made once per split and kept with it."""
    key = "mlflow_datasets"
    if key in split.memo:
        return split.memo[key]
    balance = split.class_balance()
    sample = split.test_frame.head(SCHEMA_ROWS)
    target = split.preprocessor.target
    datasets = {}
    with warnings.catch_warnings():
        # A bundled set's source is a name, not a URI, and integer labels make MLflow hint about missing values
        # in integer columns; neither says anything about this data set.
        warnings.filterwarnings("ignore", message=".*dataset source can be interpreted.*")
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")
        for name, context in CONTEXTS.items():
            profile = {"rows": split.rows[name], "columns": int(sample.shape[1]), "sha256": split.split_digests[name],
                       "data_sha256": split.data_digest, **({"class_counts": balance[name]} if balance else {})}
            source = source_of(split)
            dataset = mlflow.data.from_pandas(sample, source=source, targets=target, name=split.dataset_name,
                                              digest=short(split.split_digests[name]))
            datasets[context] = ProfiledDataset(sample, dataset.source, targets=target, name=split.dataset_name,
                                                digest=dataset.digest, profile=profile)
    split.memo[key] = datasets
    return datasets


def log_split_inputs(split: Split, contexts: tuple[str, ...]) -> None:
    """Log the split's datasets of `contexts` on the active run of this thread (a candidate's, or a client run
    made active for the moment: Tracker.active)."""
    datasets = split_datasets(split)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer.*")
        for context in contexts:
            mlflow.log_input(datasets[context], context=context)


def inputs_frame(run) -> pd.DataFrame:
    """A run's logged datasets as a table: name, digest, context (for people and tests)."""
    rows = [{"name": d.dataset.name, "digest": d.dataset.digest,
             "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), "")}
            for d in run.inputs.dataset_inputs]
    return pd.DataFrame(rows, columns=["name", "digest", "context"])
