import pytest

from training.model.build import StandardizedMSE, build_model
from training.model.spec import ModelSpec


def layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers[1:]]


def test_baseline_has_dense_and_activation_only():
    model = build_model(ModelSpec(units=(128, 64)), 64, task="classification", n_classes=10)
    assert layer_kinds(model) == ["Dense", "Activation", "Dense", "Activation", "Dense"]
    assert model.output_shape == (None, 10)
    assert [layer.units for layer in model.layers if type(layer).__name__ == "Dense"] == [128, 64, 10]


def test_block_order_is_dropout_dense_batchnorm_activation():
    spec = ModelSpec(units=(32, 16), dropout=0.3, batchnorm=True)
    model = build_model(spec, 8, task="classification", n_classes=3)
    block = ["Dropout", "Dense", "BatchNormalization", "Activation"]
    assert layer_kinds(model) == block + block + ["Dense"]
    assert model.get_layer("block1_dropout").rate == 0.3
    assert model.get_layer("block1_dense").use_bias is False  # batchnorm's beta replaces the bias


def test_regression_head_answers_in_the_targets_units():
    model = build_model(ModelSpec(units=(8,)), 4, task="regression", target_scale=(150.0, 77.0))
    assert model.output_shape == (None, 1)
    rescale = model.get_layer("to_target_units")
    assert (rescale.scale, rescale.offset) == (77.0, 150.0)
    assert isinstance(model.loss, StandardizedMSE) and model.loss.scale == 77.0


def test_the_loss_is_the_mse_in_target_units_with_the_standardized_targets_gradient():
    import numpy as np
    import tensorflow as tf

    y_true = tf.constant([[100.0], [200.0], [150.0]])
    y_pred = tf.Variable([[110.0], [180.0], [150.0]])
    loss = StandardizedMSE(scale=50.0)
    with tf.GradientTape() as tape:
        value = loss(y_true, y_pred)
    gradient = tape.gradient(value, y_pred).numpy()
    assert float(value) == pytest.approx(np.mean([10.0**2, 20.0**2, 0.0]))  # logged and compared: target units
    standardized_mse = lambda pred: tf.reduce_mean(tf.square((y_true - pred) / 50.0))  # noqa: E731
    with tf.GradientTape() as tape:
        expected = standardized_mse(y_pred)
    assert gradient == pytest.approx(tape.gradient(expected, y_pred).numpy())  # learnt: the standardized target


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # never trained: no optimizer state
def test_a_regression_model_saves_and_loads_with_its_loss(tmp_path):
    import keras
    import numpy as np

    model = build_model(ModelSpec(units=(4,)), 3, task="regression", target_scale=(10.0, 2.0))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.ones((2, 3), dtype="float32")
    assert loaded.loss.scale == 2.0
    assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_optimizers():
    for name, cls in (("adam", "Adam"), ("sgd", "SGD"), ("rmsprop", "RMSprop")):
        model = build_model(ModelSpec(units=(4,), optimizer=name, learning_rate=0.01), 3, "regression")
        assert type(model.optimizer).__name__ == cls
        assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


@pytest.mark.parametrize("fields, message", [
    ({"units": ()}, "units"), ({"dropout": 1.0}, "dropout"), ({"optimizer": "lbfgs"}, "optimizer"),
    ({"learning_rate": 0}, "learning_rate"), ({"schedule": "step", "reduce_on_plateau": True}, "reduce_on_plateau"),
    ({"l2": -0.1}, "l2 must be"), ({"augment": 0.1}, "needs augment_transforms"),
    ({"augment_transforms": ("shear",)}, "not among"), ({"augment_transforms": ("noise", "zoom")}, "mix"),
])
def test_invalid_specs(fields, message):
    with pytest.raises(ValueError, match=message):
        ModelSpec(**fields)


def test_spec_params_are_flat():
    params = ModelSpec(units=[256, 128, 64]).params()
    assert params["units"] == "256-128-64" and params["layers"] == 3
    assert "notes" not in params


def test_a_seeded_model_ignores_what_other_code_draws_from_python_random():
    import random

    import numpy as np

    spec = ModelSpec(units=(8, 4), dropout=0.2)
    first = build_model(spec, 5, "classification", 3, seed=7).get_weights()
    random.random()  # what a Dask worker's own threads may draw between two fits
    again = build_model(spec, 5, "classification", 3, seed=7).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = build_model(spec, 5, "classification", 3, seed=8).get_weights()
    assert not np.array_equal(first[0], other[0])


def test_the_loss_keeps_its_value_for_a_target_of_tiny_spread():
    import numpy as np

    value = float(StandardizedMSE(scale=1e-5)(np.array([[1e-5]], "float32"), np.array([[3e-5]], "float32")))
    assert value == pytest.approx(4e-10, rel=1e-3)  # not rounded to 0 by a (scale² - 1) factor


def test_weight_decay_penalizes_every_dense_kernel():
    import numpy as np

    plain = build_model(ModelSpec(units=(8, 4)), 5, task="classification", n_classes=3, seed=0)
    decayed = build_model(ModelSpec(units=(8, 4), l2=0.01), 5, task="classification", n_classes=3, seed=0)
    assert plain.losses == []
    kernels = [layer.kernel for layer in decayed.layers if hasattr(layer, "kernel")]
    assert len(decayed.losses) == len(kernels) == 3  # two hidden layers and the output
    expected = sum(0.01 * float(np.sum(np.square(k.numpy()))) for k in kernels)
    assert float(sum(loss.numpy() for loss in decayed.losses)) == pytest.approx(expected, rel=1e-5)
    assert "l2 0.01" in ModelSpec(l2=0.01).describe() and ModelSpec(l2=0.01).params()["l2"] == 0.01


def test_batch_normalization_averages_its_statistics_over_a_tenth_of_a_short_run():
    from training.model.build import batchnorm_momentum, train_steps

    short = ModelSpec(units=(16,), batchnorm=True, epochs=3, batch_size=64)
    steps = train_steps(1151, short)  # the quick profile on digits: 18 steps an epoch
    assert steps == 54 and batchnorm_momentum(steps) == pytest.approx(1 - 1 / 5.4)
    assert batchnorm_momentum(100) == pytest.approx(0.9)
    assert batchnorm_momentum(5000) == batchnorm_momentum(None) == 0.99  # long runs keep Keras' own
    assert batchnorm_momentum(3) == 0.5  # never an average of less than about two steps
    model = build_model(short, 64, "classification", 10, steps=steps)
    assert {layer.momentum for layer in model.layers if "batchnorm" in layer.name} == {batchnorm_momentum(steps)}


def test_a_model_with_weight_penalties_records_the_data_loss_beside_keras_loss():
    import numpy as np

    x, y = np.random.default_rng(0).normal(size=(64, 4)).astype("float32"), np.arange(64) % 2
    penalized = build_model(ModelSpec(units=(8,), l2=0.1, epochs=1), 4, "classification", 2)
    history = penalized.fit(x, y, validation_data=(x, y), epochs=1, verbose=0).history
    # Keras' loss holds the penalty; data_loss is the cross-entropy alone (the same rows, the same weights).
    assert history["val_loss"][0] > history["val_data_loss"][0] + 1e-3
    plain = build_model(ModelSpec(units=(8,), epochs=1), 4, "classification", 2)
    assert "val_data_loss" not in plain.fit(x, y, validation_data=(x, y), epochs=1, verbose=0).history


def test_augmentation_transforms_in_training_only_and_the_saved_model_serves_rows_as_they_are(tmp_path):
    from dataclasses import replace

    import keras
    import numpy as np

    from training.model.families import ModelError

    images = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 1)).astype("float32")
    spec = ModelSpec(family="cnn", units=(8, 16), augment=0.2,
                     augment_transforms=("rotation", "translation", "zoom", "contrast"))
    model = build_model(spec, (8, 8, 1), "classification", 10, seed=3)
    kinds = layer_kinds(model)
    assert kinds[:5] == ["RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast", "Rescaling"]
    assert "RandomFlip" not in kinds  # flips only when named
    augmenting = keras.Model(model.inputs[0], model.get_layer("augment_contrast").output)
    assert np.array_equal(augmenting(images, training=False), images)
    assert not np.allclose(augmenting(images, training=True), images)
    # The served model: the same answers as the network without its augmentation layers, after saving and loading.
    plain = build_model(ModelSpec(family="cnn", units=(8, 16)), (8, 8, 1), "classification", 10, seed=3)
    plain.set_weights(model.get_weights())
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, compile=False)
    assert np.allclose(loaded.predict(images, verbose=0), plain.predict(images, verbose=0), atol=1e-6)
    # Tables: Gaussian noise on the standardized features, the same way; a kind that does not fit is refused.
    noisy = build_model(ModelSpec(augment=0.3, augment_transforms=("noise",)), 5, "classification", 3)
    assert layer_kinds(noisy)[0] == "GaussianNoise"
    with pytest.raises(ModelError, match="transforms images, but the data are table rows"):
        build_model(replace(spec, family="mlp"), 64, "classification", 10)
    with pytest.raises(ModelError, match="noise is for table rows"):
        build_model(ModelSpec(family="cnn", augment=0.1, augment_transforms=("noise",)), (8, 8, 1),
                    "classification", 10)
