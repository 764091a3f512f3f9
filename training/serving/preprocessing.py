"""The fitted preprocessing (imputation, one-hot encoding, scaling, label encoding) as one saveable object.

It is fitted on the training rows only and stored as plain JSON beside every model, so that raw rows are
later scored exactly as training saw them, and loading it never executes code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, plain


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


@dataclass
class Preprocessor:
    target: str
    task: str
    numeric: list[str] = field(default_factory=list)
    medians: list[float] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    classes: list = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, target: str, task: str, rows: np.ndarray | None = None) -> Preprocessor:
        """Fitted on the rows `rows` of `frame` (all of them by default): the train rows, read a column at a time,
        so that a large table is never copied whole."""
        def train(column) -> pd.Series:
            values = frame[column]
            return values if rows is None else values.iloc[rows]

        features = [c for c in frame.columns if c != target]
        numeric = [c for c in features if _is_numeric(frame[c])]
        categorical = [c for c in features if c not in numeric]
        medians, means, stds = [], [], []
        for column in numeric:
            numbers = train(column).astype("float64")
            median = numbers.median()
            median = 0.0 if pd.isna(median) else float(median)
            filled = numbers.fillna(median)
            std = filled.std(ddof=0)
            # A constant column must not divide by zero.
            stds.append(1.0 if pd.isna(std) or std == 0.0 else float(std))
            medians.append(median)
            means.append(float(filled.mean()))
        texts = {c: train(c).dropna().astype(str) for c in categorical}
        classes = sorted(train(target).unique().tolist(), key=str) if task == "classification" else []
        return cls(
            target=target,
            task=task,
            numeric=[str(c) for c in numeric],
            medians=medians,
            means=means,
            stds=stds,
            categorical={str(c): sorted(texts[c].unique().tolist()) for c in categorical},
            modes={str(c): (texts[c].mode().iloc[0] if len(texts[c]) else "") for c in categorical},
            classes=[plain(v) for v in classes],
        )

    @property
    def feature_names(self) -> list[str]:
        onehot = [f"{c}={v}" for c, values in self.categorical.items() for v in values]
        return list(self.numeric) + onehot

    @property
    def input_columns(self) -> list[str]:
        return list(self.numeric) + list(self.categorical)

    def transform(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, int]]:
        """Model-ready float32 features of the rows `rows` of `frame` (all of them by default), and how many missing
        values were imputed per column. Written a column at a time into the result: a large table is never held
        twice."""
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise DataError(f"columns {missing} are missing; the model was trained on {self.input_columns}")
        count = len(frame) if rows is None else len(rows)
        out = np.empty((count, len(self.feature_names)), dtype="float32")
        imputed: dict[str, int] = {}
        for j, column in enumerate(self.numeric):
            values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
            values = values[rows] if rows is not None else values.copy()
            gaps = np.isnan(values)
            if gaps.any():
                imputed[column] = int(gaps.sum())
                values[gaps] = self.medians[j]
            values -= self.means[j]
            values /= self.stds[j]
            out[:, j] = values
        start = len(self.numeric)
        for column, categories in self.categorical.items():
            values = frame[column] if rows is None else frame[column].iloc[rows]
            if int(values.isna().sum()):
                imputed[column] = int(values.isna().sum())
            texts = values.astype(object).where(values.notna(), self.modes[column]).astype(str).to_numpy()
            # Categories never seen in training encode as all zeros rather than failing the row.
            out[:, start:start + len(categories)] = texts[:, None] == np.asarray(categories, dtype=object)[None, :]
            start += len(categories)
        return out, imputed

    def encode_target(self, values: pd.Series) -> np.ndarray:
        if self.task == "regression":
            return values.to_numpy(dtype="float32")
        index = {str(label): i for i, label in enumerate(self.classes)}
        unknown = sorted({str(v) for v in values if str(v) not in index})
        if unknown:
            raise DataError(f"target {self.target!r} has labels {unknown} unseen in training; known: {self.classes}")
        return np.asarray([index[str(v)] for v in values], dtype="int32")

    def decode_target(self, indices: np.ndarray) -> list:
        return [self.classes[int(i)] for i in indices]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        return cls(**data)

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> Preprocessor:
        return cls.from_dict(json.loads(Path(path).read_text()))
