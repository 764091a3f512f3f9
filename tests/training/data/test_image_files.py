"""A folder of images that stays on disk: the same pixels, fingerprint and training path as in memory, read
batch by batch, and a bad file still named before anything trains."""

import pickle

import numpy as np
import pytest

from training.config import Selection
from training.data.image_files import ImageFiles
from training.data.split import make_split
from training.data.tables import DataError, load_dataset
from training.method.baselines import score_baselines
from training.method.fit import fit
from training.model.spec import ModelSpec
from training.serving.images import png_bytes

FRACTIONS = (0.5, 0.25, 0.25)
SELECTION = Selection("val_accuracy", "max")


def folder(root, per_class=8):
    rng = np.random.default_rng(0)
    for c, name in enumerate(("a", "b")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(60 + 120 * c + rng.normal(0, 30, (6, 6, 1)), 0, 255).astype("uint8")
            (root / name / f"{i}.png").write_bytes(png_bytes(pixels))
    # One image of another size: resized by the same ops in memory and in the tf.data pipeline.
    (root / "a" / "big.png").write_bytes(png_bytes(np.full((9, 7, 1), 77, "uint8")))
    return root


@pytest.fixture
def splits(tmp_path):
    dataset = load_dataset(str(folder(tmp_path / "images")))
    return make_split(dataset, FRACTIONS, seed=1), make_split(dataset, FRACTIONS, seed=1, image_memory_mb=0)


def test_a_streamed_split_keeps_paths_only_and_has_the_same_fingerprint(splits):
    memory, disk = splits
    assert not memory.streamed and disk.streamed
    assert isinstance(disk.x_train, ImageFiles) and disk.input_shape == memory.input_shape == (6, 6, 1)
    assert disk.fingerprint == memory.fingerprint  # hashed chunk by chunk to the same digest
    assert pickle.loads(pickle.dumps(disk.x_train)) == disk.x_train  # what a Dask worker receives: the paths


def test_the_tf_data_pipeline_reads_the_same_pixels_in_the_same_order(splits):
    memory, disk = splits
    for name in ("train", "val", "test"):
        streamed = np.concatenate([b.numpy() for b in getattr(disk, f"x_{name}").dataset(batch_size=3)])
        np.testing.assert_array_equal(streamed, getattr(memory, f"x_{name}"))


def test_training_and_baselines_run_from_disk_as_from_memory(splits):
    memory, disk = splits
    spec = ModelSpec(family="cnn", units=(4,), epochs=2, batch_size=4)
    on_disk, in_memory = fit(spec, disk, SELECTION, seed=0), fit(spec, memory, SELECTION, seed=0)
    assert on_disk.epochs_run == in_memory.epochs_run == 2
    assert len(on_disk.val_rows) == len(memory.y_val)
    # The same batches in the same order (the shuffle depends on the seed and the row count alone), so the same
    # training to float rounding.
    np.testing.assert_allclose(on_disk.history["loss"], in_memory.history["loss"], rtol=1e-5)
    assert on_disk.score == pytest.approx(in_memory.score)
    assert score_baselines(disk, SELECTION, seed=0).scores == score_baselines(memory, SELECTION, seed=0).scores


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_linear_baseline_takes_a_bounded_seeded_sample_of_the_train_images(splits, on_disk):
    split = splits[on_disk]
    x, y = split.flat_train(seed=0, max_bytes=4 * 36 * 5)
    assert x.shape == (5, 36) and len(y) == 5 and x.max() <= 1.0
    assert split.flat_train(seed=0, max_bytes=1)[0].shape == (4, 36)  # never under two rows per class
    again, _ = splits[not on_disk].flat_train(seed=0, max_bytes=4 * 36 * 5)
    np.testing.assert_array_equal(x, again)  # the same sample in memory and on disk
    assert len(split.flat_train(seed=0)[1]) == len(split.y_train)  # all of them when they fit


def test_the_test_rows_are_read_for_scoring_a_chunk_at_a_time(splits):
    memory, disk = splits
    chunks = list(disk.test_inputs(rows=2))
    assert [len(c) for c in chunks][:1] == [2] and sum(len(c) for c in chunks) == len(memory.y_test)
    assert chunks[0].columns.tolist() == ["path", "image"]


def test_a_corrupt_file_of_a_streamed_folder_is_named_when_split(tmp_path):
    root = folder(tmp_path / "images")
    (root / "b" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n torn")
    with pytest.raises(DataError, match=r"b/3.png: not a readable PNG or JPEG image"):
        make_split(load_dataset(str(root)), FRACTIONS, seed=1, image_memory_mb=0)
