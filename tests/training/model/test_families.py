"""Model families: the CNN's blocks, a user's build function from the documented contract, and what the stages
and the tuner vary for each."""

import re
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

from training.method.grids import regularization_grid
from training.method.strategy import capacity_candidate, declared_only, regularization_ladders
from training.model.build import build_model
from training.model.families import ModelError, family
from training.model.spec import ModelSpec
from tuning.space import spec_from_hp

DOCS = Path(__file__).resolve().parents[3] / "docs" / "data-and-models.md"


def readme_example() -> str:
    """The build function docs/data-and-models.md shows under 'Your own model': tested as written there."""
    section = DOCS.read_text().split("### Your own model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def user_model(tmp_path) -> str:
    path = tmp_path / "my_model.py"
    path.write_text(readme_example())
    return f"{path}:build"


def write(tmp_path, text: str) -> str:
    path = tmp_path / "bad_model.py"
    path.write_text(text)
    return str(path)


def layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers[1:]]


def test_cnn_blocks_are_dropout_conv_batchnorm_activation_then_pooling_and_a_dense_block():
    spec = ModelSpec(family="cnn", units=(8, 16), dropout=0.2, batchnorm=True)
    model = build_model(spec, (8, 8, 1), "classification", 10, seed=1)
    block = ["Dropout", "Conv2D", "BatchNormalization", "Activation", "MaxPooling2D"]
    dense = ["Dropout", "Dense", "BatchNormalization", "Activation"]
    assert layer_kinds(model) == ["Rescaling", *block, *block, "Flatten", *dense, "Dense"]
    assert [model.get_layer(f"conv{i}_conv").filters for i in (1, 2)] == [8, 16]
    assert model.get_layer("block3_dense").units == 32  # twice the last block's filters
    assert model.get_layer("to_unit_range").scale == pytest.approx(1 / 255)
    assert model.output_shape == (None, 10)


def test_cnn_stops_pooling_once_the_image_is_one_pixel():
    model = build_model(ModelSpec(family="cnn", units=(4, 4, 4, 4)), (8, 8, 1), "classification", 3)
    assert model.get_layer("conv3_conv").output.shape[1:3] == (2, 2)
    assert model.get_layer("flatten").output.shape[-1] == 4  # 8 -> 4 -> 2 -> 1, then no further pooling


def test_the_cnn_refuses_a_table_and_the_mlp_takes_images_as_rows_of_pixels():
    with pytest.raises(ModelError, match="cnn family takes images.*choose --model mlp"):
        build_model(ModelSpec(family="cnn"), 64, "classification", 10)
    model = build_model(ModelSpec(units=(32,)), (8, 8, 1), "classification", 10)
    assert layer_kinds(model)[:3] == ["Rescaling", "Flatten", "Dense"]
    assert model.get_layer("flatten").output.shape[-1] == 64


def test_capacity_steps_grow_cnn_filters_by_block_and_shrink_mlp_units_by_layer():
    assert capacity_candidate(ModelSpec(family="cnn", units=(16, 32)), "deeper")[1].units == (16, 32, 64)
    assert capacity_candidate(ModelSpec(units=(128, 64)), "deeper")[1].units == (128, 64, 32)
    assert capacity_candidate(ModelSpec(family="cnn", units=(16, 32)), "wider")[1].units == (32, 64)


def test_the_readme_build_function_declares_its_keyword_knobs_with_their_defaults(user_model):
    fam = family(user_model)
    assert fam.knobs == ("units", "dropout", "activation")
    assert fam.skipped() == ("l2", "batchnorm")
    assert fam.defaults == {"units": (64, 64), "dropout": 0.0, "activation": "relu"}


def test_the_user_model_gets_a_softmax_head_and_trains_on_images(user_model):
    spec = ModelSpec(family=user_model, units=(16, 16), dropout=0.1, epochs=1)
    model = build_model(spec, (8, 8, 1), "classification", 3, seed=0)
    assert model.get_layer("to_unit_range").scale == pytest.approx(1 / 255)  # images arrive in [0, 1]
    assert model.get_layer("output").activation.__name__ == "softmax"
    x = np.random.default_rng(0).integers(0, 255, (12, 8, 8, 1)).astype("uint8")
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (12, 3)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(12), abs=1e-5)
    assert any(type(layer).__name__ == "Scale" for layer in model.get_layer(index=2).layers)  # the custom layer


def test_the_user_model_answers_a_regression_in_the_targets_units(user_model):
    model = build_model(ModelSpec(family=user_model), 5, "regression", target_scale=(100.0, 10.0))
    assert model.output_shape == (None, 1)
    assert model.get_layer("to_target_units").offset == 100.0


def test_stages_vary_only_the_knobs_a_build_function_declares(user_model):
    base = ModelSpec(family=user_model, units=(16, 16))
    ladders = regularization_ladders(base, [0.2, 0.5], [1e-3])
    assert [name for name, _ in ladders["dropout"]] == ["dropout-0.2", "dropout-0.5"]
    assert ladders["l2"] == [] and ladders["batchnorm"] == []
    from training.config import PipelineConfig

    grid = declared_only(regularization_grid(base, PipelineConfig(profile="standard")), base)
    assert all(spec.l2 == 0 and not spec.batchnorm for spec in grid.values())
    assert {"dropout-0.2", "dropout-0.5"} <= set(grid)


@pytest.mark.parametrize("centred", [False, True])
def test_the_tuner_searches_the_declared_knobs_only(user_model, centred):
    hp = kt.HyperParameters()
    spec = spec_from_hp(hp, ModelSpec(family=user_model, units=(16, 16)), centred)
    names = {h.name for h in hp.space}
    assert {"layers", "units_0", "dropout", "activation", "learning_rate", "batch_size"} <= names
    assert not names & {"l2", "batchnorm"}
    assert spec.family == user_model


@pytest.mark.parametrize(("text", "expected"), [
    ("import not_a_module_anywhere\n", r"importing .*bad_model.py failed: ModuleNotFoundError: No module named "
                                       r"'not_a_module_anywhere' \(line 1\)"),
    ("def build(:\n", r"importing .*bad_model.py failed: SyntaxError.*\(line 1\)"),
    ("build = 3\n", r"its 'build' is a int, not a function"),
    ("def other(input_shape, n_outputs):\n    pass\n", r"defines no 'build'"),
])
def test_a_build_function_that_cannot_be_imported_is_named_with_the_reason(tmp_path, text, expected):
    with pytest.raises(ModelError, match=expected):
        family(f"{write(tmp_path, text)}:build")


def test_a_build_function_returning_no_keras_model_quotes_the_type(tmp_path):
    path = write(tmp_path, "def build(input_shape, n_outputs):\n    return {}\n")
    reference = f"{path}:build"
    with pytest.raises(ModelError, match=r"returned a builtins.dict, not a keras.Model"):
        build_model(ModelSpec(family=reference), 4, "classification", 2)


def test_a_build_function_with_the_wrong_number_of_outputs_is_refused(tmp_path):
    text = ("import keras\n\ndef build(input_shape, n_outputs):\n    inputs = keras.Input(shape=input_shape)\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_outputs + 1)(inputs))\n")
    with pytest.raises(ModelError, match=r"outputs shape \(3,\), expected \(2,\)"):
        build_model(ModelSpec(family=f"{write(tmp_path, text)}:build"), 4, "classification", 2)


def test_a_missing_file_or_a_bad_reference_is_named(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        family(f"{tmp_path / 'nowhere.py'}:build")
    with pytest.raises(ModelError, match="expected mlp, cnn, or path/to/file.py:function"):
        family("resnet")


def test_a_file_name_with_dots_imports_under_a_valid_module_name_of_its_own(tmp_path):
    from training.model.families import user_module_name

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = tmp_path / "one" / "model.v2.py", tmp_path / "two" / "model.v2.py"
    for path in (first, second):
        path.write_text(readme_example())
    assert user_module_name(first).isidentifier() and user_module_name(first) != user_module_name(second)
    assert family(f"{first}:build").knobs == family(f"{second}:build").knobs


@pytest.mark.parametrize(("signature", "expected"), [
    ("units=64", r"the default of `units` is 64; units are a tuple of widths"),
    ("units=(8,), dropout=None", r"its keyword defaults .* are not usable"),
    ("units=(8,), activation='sigmoid'", r"activation 'sigmoid' is not one of"),
])
def test_defaults_that_make_no_valid_spec_are_named(tmp_path, signature, expected):
    path = write(tmp_path, f"def build(input_shape, n_outputs, {signature}):\n    pass\n")
    with pytest.raises(ModelError, match=expected):
        family(f"{path}:build")


def test_a_model_that_would_not_load_back_is_refused_before_training(tmp_path):
    from training.model.build import check_buildable

    text = ("import keras\n\ndef build(input_shape, n_outputs):\n    inputs = keras.Input(shape=input_shape)\n"
            "    x = keras.layers.Lambda(lambda t: t * 2)(inputs)\n"
            "    return keras.Model(inputs, keras.layers.Dense(n_outputs)(x))\n")
    with pytest.raises(ModelError, match=r"does not load back from a .keras file.*Lambda layers"):
        check_buildable(ModelSpec(family=f"{write(tmp_path, text)}:build"), (4,), "classification", 2)


def test_the_registered_model_carries_the_source_that_trained_not_a_later_edit(tmp_path, user_model):
    from training.model.families import loaded_source

    family(user_model)
    path = user_model.rpartition(":")[0]
    trained = Path(path).read_bytes()
    Path(path).write_text(readme_example() + "\n# edited while the run trains\n")
    assert loaded_source(user_model) == trained
