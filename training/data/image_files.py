"""Images of a split that stay on disk: their files, decoded batch by batch while they are used.

A split of images is decoded into memory once when its pixels fit in `image_memory_mb` (PipelineConfig); above
that, each split keeps only its files' paths (an ImageFiles) and every use decodes what it needs:
- training and validation: a tf.data pipeline that reads, decodes and resizes in parallel, batch by batch, with
  the same TensorFlow ops as the served model (training.serving.images.pixels_tensor);
- the fingerprint, the check that every file is readable, the linear baselines and the test evaluation: chunks
  of CHUNK_ROWS files, decoded file by file, so a bad file is named.

At most a few chunks and tf.data's prefetch buffers are in memory at once, whatever the folder's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.serving.images import decode_sized, image_frame, pixels_tensor

CHUNK_ROWS = 512


@dataclass(frozen=True)
class ImageFiles:
    """One split's image files and the size and channels they are decoded to. Quacks like its array of
    pixels where only its shape and type are read (len, shape, ndim, dtype)."""

    paths: tuple[str, ...]
    height: int
    width: int
    channels: int

    ndim = 4
    dtype = np.dtype("uint8")

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.paths), self.height, self.width, self.channels)

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)

    def pixels(self, paths: tuple[str, ...] | list[str]) -> np.ndarray:
        """Decoded pixels of `paths` (files of this split), N x height x width x channels; a file that is no
        readable image is named."""
        out = np.empty((len(paths), self.height, self.width, self.channels), dtype="uint8")
        for i, path in enumerate(paths):
            out[i] = decode_sized(Path(path).read_bytes(), str(path), self.channels, self.size)
        return out

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """The pixels, CHUNK_ROWS files at a time, in order."""
        for start in range(0, len(self.paths), rows):
            yield self.pixels(self.paths[start:start + rows])

    def frames(self, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """The files as a served image model takes them (base64 text in `image`), a chunk at a time."""
        for start in range(0, len(self.paths), rows):
            paths = self.paths[start:start + rows]
            yield image_frame([Path(p).read_bytes() for p in paths], list(paths))

    def dataset(self, labels: np.ndarray | None = None, batch_size: int = 256, shuffle_seed: int | None = None):
        """A tf.data pipeline of batches of pixels (and labels), files read and decoded in parallel, in order;
        reshuffled each epoch when a seed is given (the order of paths only: nothing else is held)."""
        import tensorflow as tf

        paths = tf.constant(list(self.paths))
        data = tf.data.Dataset.from_tensor_slices(paths if labels is None else (paths, labels))
        if shuffle_seed is not None:
            data = data.shuffle(len(self.paths), seed=shuffle_seed, reshuffle_each_iteration=True)
        size, channels = self.size, self.channels

        def load(path, *label):
            pixels = pixels_tensor(tf.io.read_file(path), channels, size)
            return (pixels, *label) if label else pixels

        return data.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def chunks_of(x) -> Iterator[np.ndarray]:
    """An array's rows as one chunk, or an ImageFiles' chunk by chunk."""
    if isinstance(x, ImageFiles):
        yield from x.chunks()
    else:
        yield x
