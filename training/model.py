"""build_model(spec) -> a compiled keras.Model. Pure: no tracking, no I/O."""

from __future__ import annotations

import keras

from training.spec import ModelSpec

STEPS_PER_EXECUTION = 64  # bench/throughput.py


def make_optimizer(spec: ModelSpec) -> keras.optimizers.Optimizer:
    if spec.optimizer == "sgd":
        # Plain SGD without momentum crawls on these problems; the course pairs SGD with momentum 0.9.
        return keras.optimizers.SGD(learning_rate=spec.learning_rate, momentum=0.9)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=spec.learning_rate)
    return keras.optimizers.Adam(learning_rate=spec.learning_rate)


def layer_seed(seed: int | None, layer: int) -> int | None:
    """A fixed seed of its own for each random layer of a model built with `seed`; None without one."""
    return None if seed is None else (seed * 1009 + layer) % (2**31 - 1)


def _kernel(seed: int | None, layer: int) -> keras.initializers.Initializer:
    return keras.initializers.GlorotUniform(seed=layer_seed(seed, layer))  # Dense's default, seeded


def _decay(spec: ModelSpec) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L2(spec.l2) if spec.l2 else None


@keras.saving.register_keras_serializable(package="keras_mlops")
class StandardizedMSE(keras.losses.Loss):
    """The mean squared error in the target's own units, with the gradient of the standardized target's.

    A regression target in the hundreds (diabetes: 25 to 346) makes the raw MSE's gradients thousands of times
    larger than a unit-scale target's, which an MLP fits slowly and SGD not at all. The network therefore
    learns the standardized target, (y - mean) / scale, and a fixed Rescaling layer turns its output back into
    the target's units. This loss is that standardized MSE, and stop_gradient adds the difference to the MSE in
    target units: what is logged, compared and served stays in the original units.
    """

    def __init__(self, scale: float = 1.0, name: str = "standardized_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = float(scale)

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(keras.ops.reshape(y_true, keras.ops.shape(y_pred)), y_pred.dtype)
        mse = keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)
        standardized = mse / self.scale**2
        # Value: mse exactly (the bracket is exactly 0, added last so no rounding loses mse); gradient: the
        # standardized loss's alone.
        return keras.ops.stop_gradient(mse) + (standardized - keras.ops.stop_gradient(standardized))

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def build_model(spec: ModelSpec, n_features: int, task: str, n_classes: int = 0,
                seed: int | None = None, target_scale: tuple[float, float] = (0.0, 1.0)) -> keras.Model:
    """Hidden blocks in the course's order: Dropout -> Dense -> BatchNormalization -> Activation.

    For regression, `target_scale` is the train target's (mean, standard deviation): the network learns the
    standardized target and answers in the target's units (see StandardizedMSE).

    With `seed`, every initializer and dropout layer is seeded explicitly. Unseeded, Keras draws each layer's
    seed from Python's process-wide `random` as the layer is made, so whatever another thread draws meanwhile
    (a Dask worker's own threads, a second candidate training at once) changes the weights: the same spec and
    seed then give other scores on a worker than in the flow's process.
    """
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    for i, units in enumerate(spec.units, start=1):
        if spec.dropout > 0:
            x = keras.layers.Dropout(spec.dropout, seed=layer_seed(seed, 2 * i), name=f"block{i}_dropout")(x)
        # With batch normalization right after, the Dense bias is redundant (BN's beta plays its part).
        x = keras.layers.Dense(units, use_bias=not spec.batchnorm, kernel_initializer=_kernel(seed, 2 * i + 1),
                               kernel_regularizer=_decay(spec), name=f"block{i}_dense")(x)
        if spec.batchnorm:
            x = keras.layers.BatchNormalization(name=f"block{i}_batchnorm")(x)
        x = keras.layers.Activation(spec.activation, name=f"block{i}_{spec.activation}")(x)
    if task == "classification":
        if n_classes < 2:
            raise ValueError(f"classification needs at least 2 classes, got {n_classes}")
        # float32 head: under mixed precision a float16 softmax loses the small probabilities.
        outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="output",
                                     kernel_initializer=_kernel(seed, 0), kernel_regularizer=_decay(spec))(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        mean, scale = target_scale
        standardized = keras.layers.Dense(1, dtype="float32", name="output", kernel_initializer=_kernel(seed, 0),
                                          kernel_regularizer=_decay(spec))(x)
        outputs = keras.layers.Rescaling(scale=scale, offset=mean, dtype="float32", name="to_target_units")(
            standardized)
        loss, metrics = StandardizedMSE(scale), ["mae"]
    model = keras.Model(inputs, outputs, name="mlp")
    # Many steps per call into TensorFlow: per-step Python overhead dominates networks this small on a CPU.
    model.compile(optimizer=make_optimizer(spec), loss=loss, metrics=metrics, steps_per_execution=STEPS_PER_EXECUTION)
    return model
