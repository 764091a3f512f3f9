"""Which reader a `--data` value names: a bundled set, an image source, or a table. Pure: no reading here."""

from __future__ import annotations

from pathlib import Path

BUNDLED_DATASETS = ("digits", "wine", "breast_cancer", "iris", "diabetes")
# Image sets made from scikit-learn's bundled ones: no download (digits-images: the 8x8 digits as images).
BUNDLED_IMAGE_SETS = ("digits-images",)
IMAGE_ARCHIVE_SUFFIXES = (".npz",)


def is_image_source(data: str) -> bool:
    """Whether `data` names images: the bundled image set, an .npz archive, or a folder of class folders."""
    if data in BUNDLED_DATASETS:  # a bundled table, even where a folder of that name exists
        return False
    path = Path(data).expanduser()
    return data in BUNDLED_IMAGE_SETS or path.suffix.lower() in IMAGE_ARCHIVE_SUFFIXES or path.is_dir()
