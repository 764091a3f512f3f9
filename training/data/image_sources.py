"""Load images for classification: a folder of class folders, an .npz archive, or the bundled `digits-images`.

Each source becomes a frame of one row per image: where it came from (`path`), its class (`label`) and, for
images made from arrays (an .npz, the bundled set), the encoded PNG file (base64 text in `image`, the column a
served image model takes). A folder's files are not read here: the split reads them from their paths, into
memory or batch by batch from disk (training.data.image_files), so a large folder is never held whole.

A folder has the layout of `keras.utils.image_dataset_from_directory` (one subfolder per class, images at any
depth below it). That function is not used to read it: it skips a file it cannot read without naming it, and
this loader must name every bad file before anything is written. Every problem is one DataError naming the
file, folder or array at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from training.serving.errors import DataError, plain
from training.serving.images import IMAGE_COLUMN, PATH_COLUMN, decode, image_bytes, image_frame, png_bytes, to_base64

LABEL = "label"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def is_hidden(path: Path) -> bool:
    """Dot files and folders (.DS_Store, .ipynb_checkpoints): never data."""
    return path.name.startswith(".")


def files_below(root: Path, folder: Path) -> list[Path]:
    """Every file at any depth below `folder`, in a stable order, but those inside or named like dot files."""
    return sorted(f for f in folder.rglob("*")
                  if f.is_file() and not any(part.startswith(".") for part in f.relative_to(root).parts))


def read_image_source(source: str) -> tuple[pd.DataFrame, str, str]:
    """(frame of path, image, label; data set name; source URI)."""
    if source == "digits-images":
        return digits_images(), "digits-images", "sklearn.datasets.load_digits (8x8 images)"
    path = Path(source).expanduser().resolve()  # a worker started elsewhere reads the same files
    if not path.exists():
        raise DataError(f"image data {source!r} does not exist; pass a folder of class folders or an .npz file")
    if path.is_dir():
        return read_folder(path), path.name, str(path)
    return read_npz(path), path.stem, str(path)


def digits_images() -> pd.DataFrame:
    """scikit-learn's bundled digits as 8x8 grayscale images (its 0-16 intensities spread over 0-255)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.rint(bunch.images * (255 / 16)).astype("uint8")
    return frame_of_arrays(pixels, bunch.target, [f"digits-images/{i}" for i in range(len(pixels))])


def read_folder(root: Path) -> pd.DataFrame:
    entries = [e for e in sorted(root.iterdir()) if not is_hidden(e)]
    if not entries:
        raise DataError(f"{root}: the folder is empty; images go in one subfolder per class, named after the class "
                        "(or pass a CSV or Parquet file)")
    classes = [e for e in entries if e.is_dir()]
    loose = [e for e in entries if not e.is_dir()]
    if loose:
        table = loose[0].suffix.lower() in (".csv", ".tsv", ".txt", ".parquet", ".pq")
        raise DataError(f"{loose[0]}: a file beside the class folders of {root}; images go in one subfolder per "
                        "class (the layout of keras.utils.image_dataset_from_directory)"
                        + (f"; for a table, pass the file itself: --data {loose[0]}" if table else ""))
    paths, labels = [], []
    for folder in classes:
        files = files_below(root, folder)
        if not files:
            raise DataError(f"{folder}: class folder {folder.name!r} holds no images")
        for file in files:
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"{file}: not a PNG or JPEG file (suffix {file.suffix or '(none)'!r}); a class "
                                "folder holds only images")
            paths.append(file)
            labels.append(folder.name)
    if len(classes) < 2:
        raise DataError(f"{root}: one class folder ({classes[0].name!r}); classification needs at least two")
    return pd.DataFrame({PATH_COLUMN: [str(p) for p in paths], LABEL: labels})


def read_npz(path: Path) -> pd.DataFrame:
    if path.suffix.lower() != ".npz":
        raise DataError(f"{path}: unsupported image file type {path.suffix!r}; use a folder of class folders or .npz")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:  # not a zip, a truncated one, or object arrays (pickles are refused)
        raise DataError(f"{path}: not a readable .npz archive of arrays: {error}") from error
    missing = [name for name in ("x", "y") if name not in arrays]
    if missing:
        raise DataError(f"{path}: no array named {' or '.join(repr(m) for m in missing)}; an image archive holds "
                        f"images 'x' (N x H x W or N x H x W x C) and labels 'y'; it has {sorted(arrays)}")
    x, y = arrays["x"], arrays["y"]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] not in (1, 3, 4)):
        raise DataError(f"{path}: 'x' has shape {x.shape}; images are N x H x W (grayscale) or N x H x W x C "
                        "with 1, 3 or 4 channels")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{path}: 'x' holds {len(x)} images but 'y' has shape {y.shape}; one label per image")
    if len(x) == 0:
        raise DataError(f"{path}: 'x' holds no images")
    return frame_of_arrays(as_pixels(x, f"{path}: 'x'"), y, [f"{path}[{i}]" for i in range(len(x))])


def as_pixels(x: np.ndarray, where: str) -> np.ndarray:
    """uint8 pixels: as they are when 0-255 integers; floats in [0, 1] are spread over 0-255."""
    if x.dtype == np.uint8:
        return x
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DataError(f"{where} holds {x.dtype} values; images are numbers (uint8 0-255, or floats in [0, 1])")
    values = x.astype("float64")
    if not np.isfinite(values).all():
        raise DataError(f"{where} holds {int((~np.isfinite(values)).sum())} value(s) that are not finite")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        raise DataError(f"{where} holds values from {low:g} to {high:g}; pixels are 0-255 (or floats in [0, 1])")
    if np.issubdtype(x.dtype, np.floating) and high <= 1.0:
        values = values * 255
    return np.rint(values).astype("uint8")


def frame_of_arrays(pixels: np.ndarray, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({PATH_COLUMN: names, IMAGE_COLUMN: [to_base64(png_bytes(p)) for p in pixels],
                         LABEL: [plain(v) for v in labels]})


def readable_only(frame: pd.DataFrame, where: str, max_share: float) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """A folder's images that decode, and the others as "path: reason". Each file is decoded once here (the
    split decodes it again, resized): a night's few corrupt uploads are left out and named while they are at
    most `max_share` of the folder; above it, or when none is left, the folder is refused with the first ones
    named. Images made from arrays (an .npz, the bundled set) are readable by construction."""
    if IMAGE_COLUMN in frame.columns:
        return frame, ()
    bad = {}
    for i, path in enumerate(frame[PATH_COLUMN]):
        try:
            decode(Path(path).read_bytes(), str(path))
        except (DataError, OSError) as error:
            bad[i] = str(error) if isinstance(error, DataError) else f"{path}: cannot be read ({error.strerror})"
    if not bad:
        return frame, ()
    share = len(bad) / len(frame)
    if share > max_share or len(bad) == len(frame):
        named = "; ".join(list(bad.values())[:3]) + (f"; and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise DataError(f"{named} ({len(bad)} of {len(frame)} images unreadable, {share:.1%}, above "
                        f"max_unreadable_share {max_share:g} of {where})")
    return frame.drop(index=frame.index[list(bad)]).reset_index(drop=True), tuple(bad.values())


def first_image_shape(frame: pd.DataFrame) -> tuple[int, int, int]:
    """(height, width, channels) of the frame's first image: the default size of them all."""
    where = str(frame[PATH_COLUMN].iloc[0])
    data = (image_bytes(frame[IMAGE_COLUMN].iloc[0], where) if IMAGE_COLUMN in frame.columns
            else Path(where).read_bytes())
    return tuple(int(d) for d in decode(data, where).shape)


def images_to_score(root: Path, rows: int = 512) -> Iterator[pd.DataFrame]:
    """Every PNG/JPEG file under `root` (any layout; a class folder's name is not read), as the frames a served
    image model takes, with each file's path, `rows` files at a time (a large folder is never read whole); a
    file that is no readable image is named."""
    files = files_below(root, root)
    if not files:
        raise DataError(f"{root}: the folder holds no files to score")
    for file in files:
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{file}: not a PNG or JPEG file (suffix {file.suffix or '(none)'!r})")
    for start in range(0, len(files), rows):
        paths = [str(f) for f in files[start:start + rows]]
        images = [Path(p).read_bytes() for p in paths]
        for path, data in zip(paths, images, strict=True):
            decode(data, path)  # named here: the served model would only say its row in the chunk
        yield image_frame(images, paths)
