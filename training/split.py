"""Seeded train/validation/test split (stratified for classes), preprocessing fitted on train, fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.data import DataError, Dataset, plain
from training.images import ImagePreprocessor
from training.preprocessing import Preprocessor

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """Model-ready arrays of the three splits, with what produced them and what they contain."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    preprocessor: Preprocessor
    task: str
    fingerprint: str
    dataset_name: str
    source: str
    dropped_missing_target: int = 0
    imputed: dict[str, dict[str, int]] = field(default_factory=dict)
    test_frame: pd.DataFrame | None = None  # raw test rows, for scoring a registered model end to end

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def is_images(self) -> bool:
        return self.x_train.ndim == 4

    def flat(self, name: str) -> np.ndarray:
        """The rows of split `name` as a linear baseline takes them: a table's features, or an image's pixels in
        one row scaled to [0, 1] (as the network scales them)."""
        x = getattr(self, f"x_{name}")
        return x.reshape(len(x), -1).astype("float32") / 255 if self.is_images else x

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input's shape: (features,) for a table, (height, width, channels) for images."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.preprocessor.classes)

    @property
    def rows(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    @property
    def target_scale(self) -> tuple[float, float]:
        """Mean and standard deviation of the train target (regression), what the network standardizes it by;
        (0, 1) for classification, and a scale of 1 for a constant target."""
        if self.task != "regression":
            return (0.0, 1.0)
        scale = float(np.std(self.y_train))
        return (float(np.mean(self.y_train)), scale if scale > 0 else 1.0)

    def class_balance(self) -> dict[str, dict[str, int]]:
        """Rows per class label in each split (classification only)."""
        if self.task != "classification":
            return {}
        labels = [str(c) for c in self.preprocessor.classes]
        out = {}
        for name, y in (("train", self.y_train), ("val", self.y_val), ("test", self.y_test)):
            counts = np.bincount(y, minlength=len(labels))
            out[name] = {label: int(n) for label, n in zip(labels, counts, strict=True)}
        return out


def split_indices(
    labels: np.ndarray, task: str, fractions: tuple[float, float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, val and test. Classes are split one by one so each lands in every split."""
    rng = np.random.default_rng(seed)
    _, val_fraction, test_fraction = fractions
    if task == "regression":
        groups = [("all rows", np.arange(len(labels)))]
    else:
        keys = pd.Series(labels).astype(str).to_numpy()
        groups = [(label, np.flatnonzero(keys == label)) for label in sorted(set(keys))]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for label, rows in groups:
        rows = rng.permutation(rows)
        n_test = max(1, round(len(rows) * test_fraction))
        n_val = max(1, round(len(rows) * val_fraction))
        if len(rows) - n_test - n_val < 1:
            what = f"class {label!r}" if task == "classification" else "the table"
            raise DataError(
                f"{what} has only {len(rows)} row(s): too few to appear in train, validation and test "
                f"(fractions {fractions}); add rows or merge rare classes"
            )
        parts["test"].append(rows[:n_test])
        parts["val"].append(rows[n_test : n_test + n_val])
        parts["train"].append(rows[n_test + n_val :])
    return tuple(np.sort(np.concatenate(parts[name])) for name in SPLITS)


def make_split(dataset: Dataset, fractions: tuple[float, float, float], seed: int) -> Split:
    frame = dataset.frame
    train_idx, val_idx, test_idx = split_indices(frame[dataset.target].to_numpy(), dataset.task, fractions, seed)
    frames = {"train": frame.iloc[train_idx], "val": frame.iloc[val_idx], "test": frame.iloc[test_idx]}
    preprocessor = fitted_preprocessor(dataset, frames["train"])
    arrays, imputed = {}, {}
    for name, part in frames.items():
        x, counts = preprocessor.transform(part)
        arrays[f"x_{name}"] = x
        arrays[f"y_{name}"] = preprocessor.encode_target(part[dataset.target])
        imputed[name] = counts
    for array in arrays.values():
        array.setflags(write=False)  # one split is shared by every candidate; nobody may change it
    return Split(
        **arrays,
        preprocessor=preprocessor,
        task=dataset.task,
        fingerprint=fingerprint(arrays, preprocessor.feature_names, dataset.task),
        dataset_name=dataset.name,
        source=dataset.source,
        dropped_missing_target=dataset.dropped_missing_target,
        imputed=imputed,
        test_frame=frames["test"][[*preprocessor.input_columns, dataset.target]].reset_index(drop=True),
    )


def fitted_preprocessor(dataset: Dataset, train: pd.DataFrame) -> Preprocessor:
    """The table's preprocessing fitted on the train rows; for images, the size and channels they are decoded to
    and the train rows' classes."""
    if dataset.image_shape is None:
        return Preprocessor.fit(train, dataset.target, dataset.task)
    height, width, channels = dataset.image_shape
    classes = sorted(train[dataset.target].unique().tolist(), key=str)
    return ImagePreprocessor(target=dataset.target, task=dataset.task, classes=[plain(c) for c in classes],
                             height=height, width=width, channels=channels)


def fingerprint(arrays: dict[str, np.ndarray], feature_names: list[str], task: str) -> str:
    """A short hash of the split's contents: same data, config and seed give the same fingerprint."""
    digest = hashlib.sha256()
    digest.update(task.encode())
    digest.update("\x1f".join(feature_names).encode())
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]
