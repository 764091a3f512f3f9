"""Images in: a folder of class folders, an .npz archive, the bundled digits-images; every bad file named."""

import numpy as np
import pandas as pd
import pytest

from training.data.image_sources import images_to_score
from training.data.split import make_split
from training.data.tables import DataError, load_dataset
from training.serving.images import ImagePreprocessor, image_frame, png_bytes, preprocessor_from_dict
from training.serving.predict import predict_frame

FRACTIONS = (0.6, 0.2, 0.2)


def image(seed: int, size=(6, 6), channels=1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, channels), dtype=np.uint8)


def image_folder(root, classes=("cat", "dog"), per_class=6, size=(6, 6)):
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            (folder / f"{i}.png").write_bytes(png_bytes(image(100 * c + i, size)))
    return root


def test_a_folder_of_class_folders_is_split_stratified_at_the_first_images_size(tmp_path):
    root = image_folder(tmp_path / "pets")
    dataset = load_dataset(str(root))
    assert (dataset.task, dataset.target, dataset.image_shape) == ("classification", "label", (6, 6, 1))
    split = make_split(dataset, FRACTIONS, seed=3)
    assert split.x_train.shape[1:] == (6, 6, 1) and split.x_train.dtype == np.uint8
    assert split.class_balance()["test"] == {"cat": 1, "dog": 1}
    assert split.preprocessor.classes == ["cat", "dog"]
    # The pixels are the files' own: the split's rows are the decoded images.
    first = dataset.frame[dataset.frame["path"].str.endswith("cat/0.png")].index[0]
    assert any((row == image(0)).all() for x in (split.x_train, split.x_val, split.x_test) for row in x) and first == 0
    assert make_split(dataset, FRACTIONS, seed=3).fingerprint == split.fingerprint


def test_images_of_other_sizes_and_channels_are_converted_to_the_first_ones(tmp_path):
    root = image_folder(tmp_path / "pets", per_class=4)
    (root / "dog" / "big.png").write_bytes(png_bytes(image(7, (12, 10), channels=3)))
    dataset = load_dataset(str(root), image_size=(4, 5))
    assert dataset.image_shape == (4, 5, 1)
    split = make_split(dataset, (0.5, 0.25, 0.25), seed=0)
    assert split.input_shape == (4, 5, 1)


def test_the_bundled_digits_images_are_8x8_grayscale():
    dataset = load_dataset("digits-images")
    assert len(dataset.frame) == 1797 and dataset.image_shape == (8, 8, 1)
    assert sorted(dataset.frame["label"].unique()) == list(range(10))


def test_an_npz_archive_of_float_images_is_spread_over_0_255(tmp_path):
    x = np.random.default_rng(0).random((20, 5, 5)).astype("float32")
    y = np.array(["a", "b"] * 10)
    np.savez(tmp_path / "set.npz", x=x, y=y)
    split = make_split(load_dataset(str(tmp_path / "set.npz")), FRACTIONS, seed=0)
    assert split.x_train.max() > 200 and split.input_shape == (5, 5, 1)


@pytest.mark.parametrize(("arrays", "expected"), [
    ({"x": np.zeros((4, 5, 5))}, r"set.npz: no array named 'y'"),
    ({"images": np.zeros((4, 5, 5)), "y": np.zeros(4)}, r"no array named 'x'.*it has \['images', 'y'\]"),
    ({"x": np.zeros((4, 5, 5)), "y": np.zeros(3)}, r"'x' holds 4 images but 'y' has shape \(3,\)"),
    ({"x": np.zeros((4, 5)), "y": np.zeros(4)}, r"'x' has shape \(4, 5\)"),
    ({"x": np.full((4, 5, 5), 300.0), "y": np.zeros(4)}, r"values from 300 to 300"),
])
def test_a_bad_npz_archive_is_named_with_what_is_wrong(tmp_path, arrays, expected):
    np.savez(tmp_path / "set.npz", **arrays)
    with pytest.raises(DataError, match=expected):
        load_dataset(str(tmp_path / "set.npz"))


def test_a_non_image_file_in_a_class_folder_is_named(tmp_path):
    root = image_folder(tmp_path / "pets")
    (root / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match=r"cat/notes.txt: not a PNG or JPEG file"):
        load_dataset(str(root))


def test_a_corrupt_image_is_named_before_anything_is_trained(tmp_path):
    root = image_folder(tmp_path / "pets")
    (root / "dog" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(DataError, match=r"dog/3.png: not a readable PNG or JPEG image"):
        make_split(load_dataset(str(root)), FRACTIONS, seed=0)


def test_a_few_unreadable_images_are_left_out_and_named_up_to_the_share_allowed(tmp_path):
    """A night's corrupt uploads: under max_unreadable_share they are left out of the data (and named, for the
    validation report); above it the folder is refused with the first ones named and the count."""
    root = image_folder(tmp_path / "pets", per_class=60)
    (root / "dog" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    dataset = load_dataset(str(root), max_unreadable_share=0.01)
    assert len(dataset.frame) == 119 and dataset.images_read == 120
    assert not dataset.frame["path"].str.endswith("dog/3.png").any()
    (only,) = dataset.unreadable
    assert only.startswith(str(root / "dog" / "3.png") + ": not a readable PNG or JPEG image")
    assert sum(make_split(dataset, FRACTIONS, seed=0).rows.values()) == 119
    (root / "cat" / "7.png").write_bytes(b"")
    with pytest.raises(DataError) as refused:
        load_dataset(str(root), max_unreadable_share=0.01)
    message = str(refused.value)
    assert "cat/7.png: not a readable PNG or JPEG image" in message and "dog/3.png: not a readable" in message
    assert message.endswith(f"(2 of 120 images unreadable, 1.7%, above max_unreadable_share 0.01 of {root})")


def test_a_class_folder_with_too_few_images_for_every_split_is_named(tmp_path):
    root = image_folder(tmp_path / "pets")
    for extra in list((root / "dog").iterdir())[2:]:
        extra.unlink()
    with pytest.raises(DataError, match=r"class 'dog' has only 2 row\(s\): too few to appear in train, validation "
                                        r"and test"):
        make_split(load_dataset(str(root)), FRACTIONS, seed=0)


def test_empty_folders_and_loose_files_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: the folder is empty"):
        load_dataset(str(tmp_path / "empty"))
    root = image_folder(tmp_path / "pets")
    (root / "bird").mkdir()
    with pytest.raises(DataError, match=r"bird: class folder 'bird' holds no images"):
        load_dataset(str(root))
    (root / "bird").rmdir()
    (root / "readme.png").write_bytes(png_bytes(image(1)))
    with pytest.raises(DataError, match=r"readme.png: a file beside the class folders"):
        load_dataset(str(root))


def test_images_are_classified_never_regressed(tmp_path):
    with pytest.raises(DataError, match="images are classified"):
        load_dataset("digits-images", task="regression")


def test_the_served_preprocessing_decodes_base64_files_and_round_trips_as_json(tmp_path):
    pre = ImagePreprocessor(target="label", task="classification", classes=["cat", "dog"], height=4, width=4,
                            channels=1)
    again = preprocessor_from_dict(pre.to_dict())
    assert isinstance(again, ImagePreprocessor) and again == pre
    frame = image_frame([png_bytes(image(0, (8, 8))), png_bytes(image(1, (4, 4)))])
    x, imputed = again.transform(frame)
    assert x.shape == (2, 4, 4, 1) and imputed == {}
    assert (x[1] == image(1, (4, 4))).all()  # already the size: the pixels as they are

    class Constant:
        def predict(self, x, **_):
            return np.tile([0.25, 0.75], (len(x), 1))

    out = predict_frame(Constant(), pre, frame)
    assert out.columns.tolist() == ["prediction", "proba_cat", "proba_dog"]
    assert out["prediction"].tolist() == ["dog", "dog"]
    with pytest.raises(DataError, match="row 2: the 'image' value is not base64 text"):
        pre.transform(pd.DataFrame({"image": [frame["image"][0], "%%%"]}))


def test_a_folder_to_score_is_read_whatever_its_layout_and_a_bad_file_named(tmp_path):
    root = image_folder(tmp_path / "new", per_class=2)
    frames = list(images_to_score(root, rows=3))
    assert [len(f) for f in frames] == [3, 1] and frames[0].columns.tolist() == ["path", "image"]
    (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    with pytest.raises(DataError, match=r"broken.jpg: not a readable PNG or JPEG image"):
        list(images_to_score(root))


def test_an_rgba_first_image_makes_rgb_images_and_jpegs_among_them_decode(tmp_path):
    import tensorflow as tf

    root = image_folder(tmp_path / "pets", per_class=4)
    rgba = np.random.default_rng(5).integers(0, 256, (6, 6, 4), dtype=np.uint8)
    (root / "cat" / "0.png").write_bytes(png_bytes(rgba))  # the first image: RGBA
    (root / "dog" / "photo.jpg").write_bytes(tf.io.encode_jpeg(image(9, channels=3)).numpy())
    dataset = load_dataset(str(root))
    assert dataset.image_shape == (6, 6, 3)  # alpha dropped: JPEG has none
    assert make_split(dataset, (0.5, 0.25, 0.25), seed=0).input_shape == (6, 6, 3)


def test_a_bundled_name_is_a_table_even_beside_a_folder_of_that_name(tmp_path, monkeypatch):
    image_folder(tmp_path / "wine")
    monkeypatch.chdir(tmp_path)
    assert load_dataset("wine").image_shape is None
