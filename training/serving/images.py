"""Images as the served model and the split read them: encoded PNG/JPEG bytes in, pixels of one size out.

An image travels as its encoded file (base64 text in a frame's `image` column: what a JSON request to
`mlflow models serve` carries), and is decoded, given the training images' channels and resized to their size
here, in the split and in the served model alike. Pixels stay 0-255 (uint8): the network scales them to [0, 1]
itself (training.model.families), so a served model takes the same bytes a user has on disk.

Carried with the registered model, like the whole of training.serving.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .preprocessing import Preprocessor

IMAGE_COLUMN = "image"
# Where a row came from (a file's path), when known: errors name it instead of the row's number.
PATH_COLUMN = "path"
KIND = "image"


def image_bytes(value, where: str) -> bytes:
    """The encoded image of one cell: base64 text (a JSON request, a frame made here) or raw bytes."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise DataError(f"{where}: the {IMAGE_COLUMN!r} value is not base64 text ({error})") from error
    raise DataError(f"{where}: the {IMAGE_COLUMN!r} value is a {type(value).__name__}, not the base64 text of a "
                    "PNG or JPEG file")


def to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(data: bytes, where: str, channels: int = 0) -> np.ndarray:
    """Height x width x channels uint8 pixels of a PNG/JPEG file's bytes (`channels` 0: the file's own), or a
    DataError that names `where`."""
    import tensorflow as tf

    with readable(where):
        return tf.io.decode_image(data, channels=channels, expand_animations=False).numpy()


def decode_sized(data: bytes, where: str, channels: int, size: tuple[int, int]) -> np.ndarray:
    """The pixels of one file as a model of `size` and `channels` takes them (pixels_tensor), or a DataError that
    names `where`."""
    with readable(where):
        return pixels_tensor(data, channels, size).numpy()


@contextlib.contextmanager
def readable(where: str):
    """TensorFlow's error of a file it cannot decode, as one DataError naming the file."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.InvalidArgumentError, ValueError) as error:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise DataError(f"{where}: not a readable PNG or JPEG image ({reason})") from error


def pixels_tensor(data, channels: int, size: tuple[int, int]):
    """The one definition of an image's pixels: decoded with `channels`, resized to `size` (bilinear with
    antialiasing, rounded to uint8) unless it has that size already. TensorFlow ops only, so the same function
    runs eagerly (the split in memory, the served model) and inside a tf.data pipeline (a split streamed from
    disk): both see the same pixels."""
    import tensorflow as tf

    pixels = tf.io.decode_image(data, channels=channels, expand_animations=False)
    pixels.set_shape([None, None, channels])

    def resized():
        scaled = tf.image.resize(pixels, size, method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(scaled), 0, 255), tf.uint8)

    shape = tf.shape(pixels)
    same = tf.logical_and(tf.equal(shape[0], size[0]), tf.equal(shape[1], size[1]))
    out = tf.cond(same, lambda: pixels, resized)
    out.set_shape([size[0], size[1], channels])
    return out


def encode_png(pixels: np.ndarray) -> bytes:
    """A PNG file of height x width x channels uint8 pixels."""
    import tensorflow as tf

    return tf.io.encode_png(pixels).numpy()


@dataclass
class ImagePreprocessor(Preprocessor):
    """The preprocessing of an image model: decode, the training images' channels, their size. Labels are
    encoded and decoded as for tables; there are no numeric or categorical columns, only `image`."""

    height: int = 0
    width: int = 0
    channels: int = 1
    kind: str = KIND

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    @property
    def feature_names(self) -> list[str]:
        return [f"pixels {self.height}x{self.width}x{self.channels}"]

    @property
    def input_columns(self) -> list[str]:
        return [IMAGE_COLUMN]

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
        """Model-ready uint8 pixels, N x height x width x channels; no value is ever imputed."""
        if IMAGE_COLUMN not in frame.columns:
            raise DataError(f"column {IMAGE_COLUMN!r} is missing: an image model takes the base64 text of a PNG or "
                            f"JPEG file per row in it; columns are {[str(c) for c in frame.columns]}")
        paths = frame[PATH_COLUMN].tolist() if PATH_COLUMN in frame.columns else None
        out = np.empty((len(frame), *self.input_shape), dtype="uint8")
        for i, value in enumerate(frame[IMAGE_COLUMN].tolist()):
            where = str(paths[i]) if paths else f"row {i + 1}"
            out[i] = decode_sized(image_bytes(value, where), where, self.channels, self.size)
        return out, {}

    def to_dict(self) -> dict:
        return asdict(self)


def preprocessor_from_dict(data: dict) -> Preprocessor:
    """A table's or an image model's preprocessing, as `to_dict` wrote it."""
    return ImagePreprocessor(**data) if data.get("kind") == KIND else Preprocessor.from_dict(data)


def load_preprocessor(path: Path | str) -> Preprocessor:
    return preprocessor_from_dict(json.loads(Path(path).read_text()))


def image_frame(images: list[bytes], paths: list[str] | None = None) -> pd.DataFrame:
    """The frame an image model takes: base64 text of each encoded file (and its path, to name it in errors)."""
    frame = pd.DataFrame({IMAGE_COLUMN: [to_base64(b) for b in images]})
    if paths is not None:
        frame.insert(0, PATH_COLUMN, [str(p) for p in paths])
    return frame


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG bytes of one image (uint8, H x W or H x W x C), for frames made from arrays."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return encode_png(np.ascontiguousarray(pixels))

