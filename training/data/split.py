"""Seeded train/validation/test split (stratified for classes), preprocessing fitted on train, fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.data.digest import digest, header_of, image_row_hashes, table_row_hashes
from training.data.image_files import CHUNK_ROWS, ImageFiles, chunks_of
from training.data.tables import DataError, Dataset, plain
from training.serving.images import IMAGE_COLUMN, PATH_COLUMN, ImagePreprocessor
from training.serving.preprocessing import Preprocessor

SPLITS = ("train", "val", "test")
# Decoded images up to this size are held in memory; above it they stay on disk (PipelineConfig.image_memory_mb).
IMAGE_MEMORY_MB = 2048
# What a linear baseline on images may hold of the train rows' pixels as float32 (scikit-learn's solvers copy
# them once more, as float64): bench/image_memory.py found an unbounded one the largest holder of memory.
LINEAR_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Split:
    """Model-ready arrays of the three splits, with what produced them and what they contain. The images of a
    large folder stay on disk: their x_* are ImageFiles (training.data.image_files), decoded as they are used."""

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
    # Raw test rows, for scoring a registered model end to end; a folder's images by path only (test_inputs).
    test_frame: pd.DataFrame | None = None
    # sha256 of every row as read, and of each split's rows (train, val, test): which rows made a model
    # (training.data.digest); the fingerprint above is the model-ready arrays'.
    data_digest: str = ""
    split_digests: dict[str, str] = field(default_factory=dict)
    origin: tuple[str | None, str | None, str | None] = (None, None, None)  # --data, --table, --query
    # What is derived from the split once and shared by everything that trains on it (the linear baseline's
    # validation score): it lives and dies with the split.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict:
        # The memo stays in its process: what it holds (MLflow datasets, whose source classes MLflow makes at run
        # time) may not pickle, and a worker process derives its own (tuning.distributed sends the split).
        return {**self.__dict__, "memo": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)  # a frozen dataclass: object.__setattr__ would be the only other way in

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def is_images(self) -> bool:
        return self.x_train.ndim == 4

    @property
    def streamed(self) -> bool:
        """Whether the images stay on disk (x_* are ImageFiles)."""
        return isinstance(self.x_train, ImageFiles)

    def flat(self, x) -> np.ndarray:
        """Rows as a linear baseline takes them: a table's features, or an image's pixels in one row scaled to
        [0, 1] (as the network scales them)."""
        return x.reshape(len(x), -1).astype("float32") / 255 if self.is_images else x

    def flat_chunks(self, name: str) -> Iterator[np.ndarray]:
        """Split `name`'s rows for a linear baseline, in order, a chunk at a time when they stay on disk."""
        for chunk in chunks_of(getattr(self, f"x_{name}")):
            yield self.flat(chunk)

    def flat_train(self, seed: int, max_bytes: int = LINEAR_BYTES) -> tuple[np.ndarray, np.ndarray]:
        """The train rows a linear baseline is fitted on: a table's, or as many images as `max_bytes` hold as
        float32 pixels (all of them when they fit; else a seeded sample)."""
        if not self.is_images:
            return self.x_train, self.y_train
        # At least two rows per class, even over the budget: a sample of one class has nothing to separate.
        rows = min(len(self.y_train), max(2 * self.n_classes, max_bytes // (4 * int(np.prod(self.input_shape)))))
        if rows == len(self.y_train):
            chosen = np.arange(rows)
        else:
            chosen = np.sort(np.random.default_rng(seed).permutation(len(self.y_train))[:rows])
        x = self.x_train
        pixels = x.pixels([x.paths[i] for i in chosen]) if isinstance(x, ImageFiles) else x[chosen]
        return self.flat(pixels), self.y_train[chosen]

    def sample_pixels(self, count: int) -> np.ndarray:
        """The first `count` test images' pixels (the champion's sample-images figure)."""
        x = self.x_test
        return x.pixels(x.paths[:count]) if isinstance(x, ImageFiles) else x[:count]

    def test_inputs(self, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """The raw test rows without the target, as a served model takes them, a chunk at a time: a table's
        rows, or images as base64 files (read from disk for a folder)."""
        frame = self.test_frame.drop(columns=[self.preprocessor.target])
        if isinstance(self.preprocessor, ImagePreprocessor) and IMAGE_COLUMN not in frame.columns:
            yield from ImageFiles(tuple(frame[PATH_COLUMN]), *self.preprocessor.input_shape).frames(rows)
            return
        for start in range(0, len(frame), rows):
            yield frame.iloc[start:start + rows].reset_index(drop=True)

    @property
    def test_truth(self) -> pd.Series:
        return self.test_frame[self.preprocessor.target]

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


def time_split_indices(times: pd.Series, fractions: tuple[float, float, float],
                       column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out of time: the newest rows are the test split, the next newest validation, the rest train (ties keep their
    order). A column of times, dates or numbers; a missing or unreadable value is named."""
    values = times
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)):
        try:
            values = pd.to_datetime(values, utc=True)
        except (ValueError, TypeError) as error:
            raise DataError(f"split_by column {column!r} holds values like {plain(times.iloc[0])!r}: not times, dates "
                            f"or numbers ({str(error).splitlines()[0][:200]})") from None
    missing = int(values.isna().sum())
    if missing:
        raise DataError(f"split_by column {column!r} has {missing} missing value(s): every row needs its time")
    order = np.argsort(values.to_numpy(), kind="stable")
    _, val_fraction, test_fraction = fractions
    n_test, n_val = max(1, round(len(order) * test_fraction)), max(1, round(len(order) * val_fraction))
    if len(order) - n_test - n_val < 1:
        raise DataError(f"{len(order)} row(s): too few for train, validation and test (fractions {fractions})")
    val_starts, test_starts = len(order) - n_test - n_val, len(order) - n_test
    return np.sort(order[:val_starts]), np.sort(order[val_starts:test_starts]), np.sort(order[test_starts:])


def make_split(dataset: Dataset, fractions: tuple[float, float, float], seed: int,
               image_memory_mb: float = IMAGE_MEMORY_MB, split_by: str | None = None) -> Split:
    """Split, fit the preprocessing on the train rows, make the model-ready rows. Images whose decoded pixels
    would take more than `image_memory_mb` stay on disk (ImageFiles); every file is still decoded once here, for
    the fingerprint, so a bad one is named before anything trains. `split_by`: a time column the split is made on
    (out of time) instead of the seeded, stratified split; it is no feature."""
    frame = dataset.frame
    try:
        if split_by is not None:
            if split_by not in frame.columns or split_by == dataset.target:
                raise DataError(f"split_by column {split_by!r} not found among the features; columns are "
                                f"{[str(c) for c in frame.columns]}")
            train_idx, val_idx, test_idx = time_split_indices(frame[split_by], fractions, split_by)
        else:
            train_idx, val_idx, test_idx = split_indices(frame[dataset.target].to_numpy(), dataset.task, fractions,
                                                         seed)
    except DataError as error:  # named with where the rows came from: the file, or the folder of class folders
        raise DataError(f"{dataset.source}: {error}") from error
    indices = {"train": train_idx, "val": val_idx, "test": test_idx}
    # The splits are rows of the one table, never copies of it: the preprocessing reads them a column at a time.
    features = frame.drop(columns=[split_by]) if split_by is not None else frame
    preprocessor = fitted_preprocessor(dataset, features, train_idx)
    stream = (dataset.image_shape is not None and IMAGE_COLUMN not in frame.columns
              and len(frame) * int(np.prod(dataset.image_shape)) > image_memory_mb * 2**20)
    arrays, imputed = {}, {}
    for name, idx in indices.items():
        if isinstance(preprocessor, ImagePreprocessor) and IMAGE_COLUMN not in features.columns:
            files = ImageFiles(tuple(features[PATH_COLUMN].iloc[idx]), *preprocessor.input_shape)
            x, counts = (files if stream else files.pixels(files.paths)), {}
        elif isinstance(preprocessor, ImagePreprocessor):
            x, counts = preprocessor.transform(features.iloc[idx])
        else:
            x, counts = preprocessor.transform(features, idx)
        arrays[f"x_{name}"] = x
        arrays[f"y_{name}"] = preprocessor.encode_target(features[dataset.target].iloc[idx])
        imputed[name] = counts
    for array in arrays.values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)  # one split is shared by every candidate; nobody may change it
    images = dataset.image_shape is not None
    hashes = {} if images else None
    split_fingerprint = fingerprint(arrays, preprocessor.feature_names, dataset.task, image_hashes=hashes)
    data_digest, split_digests = content_digests(dataset, indices, hashes)
    return Split(
        **arrays,
        preprocessor=preprocessor,
        task=dataset.task,
        fingerprint=split_fingerprint,
        dataset_name=dataset.name,
        source=dataset.source,
        dropped_missing_target=dataset.dropped_missing_target,
        imputed=imputed,
        test_frame=test_rows(features.iloc[test_idx], preprocessor, dataset.target),
        data_digest=data_digest,
        split_digests=split_digests,
        origin=dataset.origin,
    )


def content_digests(dataset: Dataset, indices: dict[str, np.ndarray],
                    image_hashes: dict[str, np.ndarray] | None) -> tuple[str, dict[str, str]]:
    """The digest of every row as read (training.data.digest), and of each split's rows: a table's row hashes, or
    the hashes of the images' pixels and labels the fingerprint's pass made."""
    if image_hashes is None:
        header = header_of(dataset.frame)
        rows = table_row_hashes(dataset.frame)
        by_split = {name: rows[idx] for name, idx in indices.items()}
    else:
        header = "images " + "x".join(str(d) for d in dataset.image_shape)
        rows = np.empty(len(dataset.frame), dtype="uint64")
        by_split = {name: image_hashes[name] for name in indices}
        for name, idx in indices.items():
            rows[idx] = by_split[name]
    return digest(rows, header), {name: digest(hashes, header) for name, hashes in by_split.items()}


def fitted_preprocessor(dataset: Dataset, frame: pd.DataFrame, train: np.ndarray) -> Preprocessor:
    """The table's preprocessing fitted on the train rows (`train`, positions in `frame`); for images, the size and
    channels they are decoded to and the train rows' classes."""
    if dataset.image_shape is None:
        return Preprocessor.fit(frame, dataset.target, dataset.task, rows=train)
    height, width, channels = dataset.image_shape
    classes = sorted(frame[dataset.target].iloc[train].unique().tolist(), key=str)
    return ImagePreprocessor(target=dataset.target, task=dataset.task, classes=[plain(c) for c in classes],
                             height=height, width=width, channels=channels)


def test_rows(test: pd.DataFrame, preprocessor: Preprocessor, target: str) -> pd.DataFrame:
    """The raw test rows kept for the end-to-end scoring: the input columns and the target; a folder's images
    by their path (read when scored), not their bytes."""
    columns = [c for c in preprocessor.input_columns if c in test.columns]
    if isinstance(preprocessor, ImagePreprocessor) and not columns:
        columns = [PATH_COLUMN]
    return test[[*columns, target]].reset_index(drop=True)


def fingerprint(arrays: dict, feature_names: list[str], task: str,
                image_hashes: dict[str, np.ndarray] | None = None) -> str:
    """A short hash of the split's contents: same data, config and seed give the same fingerprint. Images on
    disk are hashed chunk by chunk, to the same digest as their pixels in memory; in the same pass, with
    `image_hashes`, each image's own hash is kept per split (training.data.digest.image_row_hashes)."""
    digest_ = hashlib.sha256()
    digest_.update(task.encode())
    digest_.update("\x1f".join(feature_names).encode())
    for key in sorted(arrays):
        array = arrays[key]
        digest_.update(f"{key}:{array.dtype}:{array.shape}".encode())
        start, kept = 0, []
        for chunk in chunks_of(array):
            digest_.update(np.ascontiguousarray(chunk).data)  # its bytes, without a copy of them
            if image_hashes is not None and key.startswith("x_"):
                labels = arrays["y_" + key.removeprefix("x_")][start:start + len(chunk)]
                kept.append(image_row_hashes(chunk, labels))
            start += len(chunk)
        if kept:
            image_hashes[key.removeprefix("x_")] = np.concatenate(kept)
    return digest_.hexdigest()[:16]
