"""build_model(spec) -> a compiled keras.Model of the spec's family. Pure: no tracking, no I/O."""

from __future__ import annotations

import keras

from training.model.families import Family, ModelError, family, is_user_function
from training.model.spec import DATA_LOSS, ModelSpec

STEPS_PER_EXECUTION = 64  # bench/throughput.py
KERAS_BN_MOMENTUM = 0.99  # Keras' default: the moving statistics average about the last 100 steps
BN_WINDOW_SHARE = 0.1  # in a short run they average the last tenth of its steps instead


def make_optimizer(spec: ModelSpec) -> keras.optimizers.Optimizer:
    if spec.optimizer == "sgd":
        # Plain SGD without momentum crawls on these problems; the course pairs SGD with momentum 0.9.
        return keras.optimizers.SGD(learning_rate=spec.learning_rate, momentum=0.9)
    if spec.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=spec.learning_rate)
    return keras.optimizers.Adam(learning_rate=spec.learning_rate)


# --- the families' bodies (training.model.families declares them) ----------------------------------------------------

def layer_seed(seed: int | None, layer: int) -> int | None:
    """A fixed seed of its own for each random layer of a model built with `seed`; None without one."""
    return None if seed is None else (seed * 1009 + layer) % (2**31 - 1)


def kernel(seed: int | None, layer: int) -> keras.initializers.Initializer:
    return keras.initializers.GlorotUniform(seed=layer_seed(seed, layer))  # Dense's and Conv2D's default, seeded


def decay(l2: float) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L2(l2) if l2 else None


def batchnorm_momentum(train_steps: int | None) -> float:
    """The moving statistics' momentum for a run of `train_steps` optimizer steps. Batch normalization validates
    and serves with moving averages of its batches' mean and variance, which start at 0 and 1; Keras' momentum
    0.99 still holds 37% of those starting values after 100 steps, so a quick run's network is judged on
    statistics it never had (measured: the quick CNN on digits-images at 0.10 validation accuracy). A run of N
    steps averages over its last N/10 steps instead (0.9 for 100 steps); a run of 1000 steps or more keeps
    Keras' 0.99."""
    if not train_steps:
        return KERAS_BN_MOMENTUM
    return min(KERAS_BN_MOMENTUM, max(0.5, 1 - 1 / (BN_WINDOW_SHARE * train_steps)))


def train_steps(rows: int, spec) -> int:
    """The optimizer steps of `spec`'s whole run over `rows` training rows."""
    return -(-rows // spec.batch_size) * spec.epochs


AUGMENT_SEED_OFFSET = 500  # the augmentation layers' seeds, apart from the blocks' (layer_seed's `layer`)


def augmentation(x, spec: ModelSpec, seed: int | None):
    """The spec's augmentation on the model's inputs: Keras' random preprocessing layers, which transform in
    training only (`training=False` passes the rows through), so validation, evaluation and the served model see
    them as they are. Images are augmented as 0-255 pixels, before the network scales them; a table's features
    get Gaussian noise on their standardized values. In float32 under mixed precision too: image transforms
    interpolate pixels."""
    if not spec.augment:
        return x
    s = spec.augment
    layers = {
        "rotation": lambda k: keras.layers.RandomRotation(s / 4, seed=k, dtype="float32", name="augment_rotation"),
        "translation": lambda k: keras.layers.RandomTranslation(s, s, seed=k, dtype="float32",
                                                                name="augment_translation"),
        "zoom": lambda k: keras.layers.RandomZoom((-s, s), seed=k, dtype="float32", name="augment_zoom"),
        "contrast": lambda k: keras.layers.RandomContrast(s, value_range=(0, 255), seed=k, dtype="float32",
                                                          name="augment_contrast"),
        "flip": lambda k: keras.layers.RandomFlip("horizontal", seed=k, dtype="float32", name="augment_flip"),
        "noise": lambda k: keras.layers.GaussianNoise(s, seed=k, dtype="float32", name="augment_noise"),
    }
    for i, transform in enumerate(spec.augment_transforms):
        x = layers[transform](layer_seed(seed, AUGMENT_SEED_OFFSET + i))(x)
    return x


def check_augmentation(spec: ModelSpec, image: bool) -> None:
    """Image transforms need images, noise a table's features: one ModelError naming the mismatch."""
    if not spec.augment:
        return
    if image and "noise" in spec.augment_transforms:
        raise ModelError("augment noise is for table rows; images take rotation, translation, zoom, contrast, flip")
    if not image and "noise" not in spec.augment_transforms:
        raise ModelError(f"augment {'+'.join(spec.augment_transforms)} transforms images, but the data are table "
                         "rows; tables take noise")


def batchnorm(name: str, momentum: float) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(momentum=momentum, name=name)


def dense_block(x, spec, units: int, i: int, seed: int | None, momentum: float = KERAS_BN_MOMENTUM):
    """The course's block order: Dropout -> Dense -> BatchNormalization -> Activation."""
    if spec.dropout > 0:
        x = keras.layers.Dropout(spec.dropout, seed=layer_seed(seed, 2 * i), name=f"block{i}_dropout")(x)
    # With batch normalization right after, the bias is redundant (BN's beta plays its part).
    x = keras.layers.Dense(units, use_bias=not spec.batchnorm, kernel_initializer=kernel(seed, 2 * i + 1),
                           kernel_regularizer=decay(spec.l2), name=f"block{i}_dense")(x)
    if spec.batchnorm:
        x = batchnorm(f"block{i}_batchnorm", momentum)(x)
    return keras.layers.Activation(spec.activation, name=f"block{i}_{spec.activation}")(x)


def mlp_body(inputs, spec, seed: int | None, momentum: float = KERAS_BN_MOMENTUM):
    x = inputs
    if len(inputs.shape) == 4:  # images: their pixels in one row, scaled to [0, 1] as the CNN scales them
        x = keras.layers.Flatten(name="flatten")(keras.layers.Rescaling(1 / 255, name="to_unit_range")(x))
    for i, units in enumerate(spec.units, start=1):
        x = dense_block(x, spec, units, i, seed, momentum)
    return x


def cnn_body(inputs, spec, seed: int | None, momentum: float = KERAS_BN_MOMENTUM):
    """Convolutional blocks in the same order as the dense ones (Dropout -> Conv2D -> BN -> Activation), each
    halving the image with max pooling while it is at least 2 pixels a side; then one dense block twice as wide
    as the last block's filters."""
    x = keras.layers.Rescaling(1 / 255, name="to_unit_range")(inputs)
    size = min(inputs.shape[1], inputs.shape[2])
    for i, filters in enumerate(spec.units, start=1):
        if spec.dropout > 0:
            x = keras.layers.Dropout(spec.dropout, seed=layer_seed(seed, 2 * i), name=f"conv{i}_dropout")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not spec.batchnorm,
                                kernel_initializer=kernel(seed, 2 * i + 1), kernel_regularizer=decay(spec.l2),
                                name=f"conv{i}_conv")(x)
        if spec.batchnorm:
            x = batchnorm(f"conv{i}_batchnorm", momentum)(x)
        x = keras.layers.Activation(spec.activation, name=f"conv{i}_{spec.activation}")(x)
        if size >= 2:
            x = keras.layers.MaxPooling2D(2, name=f"conv{i}_pool")(x)
            size //= 2
    x = keras.layers.Flatten(name="flatten")(x)
    return dense_block(x, spec, 2 * spec.units[-1], len(spec.units) + 1, seed, momentum)


def user_body(inputs, spec, fam: Family, n_outputs: int, image: bool):
    """The user's network, fed [0, 1] images, checked to return a Keras model of `n_outputs` values."""
    knobs = {k: (tuple(spec.units) if k == "units" else getattr(spec, k)) for k in fam.knobs}
    shape = tuple(int(d) for d in inputs.shape[1:])
    try:
        network = fam.build_function(shape, n_outputs, **knobs)
    except Exception as error:
        raise ModelError(f"--model {fam.name!r}: the build function raised {type(error).__name__}: {error} "
                         f"(called with input_shape={shape}, n_outputs={n_outputs}, {knobs})") from error
    if not isinstance(network, keras.Model):
        raise ModelError(f"--model {fam.name!r}: the build function returned a {type(network).__module__}."
                         f"{type(network).__qualname__}, not a keras.Model")
    x = keras.layers.Rescaling(1 / 255, name="to_unit_range")(inputs) if image else inputs
    try:
        outputs = network(x)
    except Exception as error:
        raise ModelError(f"--model {fam.name!r}: the returned model does not take inputs of shape {shape}: "
                         f"{error}") from error
    if tuple(outputs.shape[1:]) != (n_outputs,):
        raise ModelError(f"--model {fam.name!r}: the returned model outputs shape {tuple(outputs.shape[1:])}, "
                         f"expected ({n_outputs},): one raw value per class, or one for a regression")
    return outputs


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


def build_model(spec: ModelSpec, input_shape: int | tuple[int, ...], task: str, n_classes: int = 0,
                seed: int | None = None, target_scale: tuple[float, float] = (0.0, 1.0),
                steps: int | None = None) -> keras.Model:
    """The spec's family's body (training.model.families), then the head: a float32 softmax over the classes, or the
    standardized regression target rescaled to the target's units; compiled with the spec's optimizer.
    `steps`: the optimizer steps the run will take (train_steps), which sets batch normalization's momentum.
    A model with weight penalties also reports `data_loss`, its loss without them (what the diagnosis reads).
    The spec's augmentation, if any, transforms the inputs in training only (augmentation).

    `input_shape`: the number of a table's features, or an image's (height, width, channels).
    For regression, `target_scale` is the train target's (mean, standard deviation): the network learns the
    standardized target and answers in the target's units (see StandardizedMSE).

    With `seed`, every initializer and dropout layer is seeded explicitly. Unseeded, Keras draws each layer's
    seed from Python's process-wide `random` as the layer is made, so whatever another thread draws meanwhile
    (a Dask worker's own threads, a second candidate training at once) changes the weights: the same spec and
    seed then give other scores on a worker than in the flow's process.
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    image = len(shape) == 3
    fam = family(spec.family)
    if fam.takes == "image" and not image:
        raise ModelError(f"the {fam.name} family takes images, but the data are table rows; choose --model mlp")
    if task == "classification" and n_classes < 2:
        raise ValueError(f"classification needs at least 2 classes, got {n_classes}")
    n_outputs = n_classes if task == "classification" else 1
    check_augmentation(spec, image)
    inputs = keras.Input(shape=shape, name="images" if image else "features")
    augmented = augmentation(inputs, spec, seed)
    if fam.build_function is None:
        momentum = batchnorm_momentum(steps)
        x = (mlp_body if fam.name == "mlp" else cnn_body)(augmented, spec, seed, momentum)
        # float32 head: under mixed precision a float16 softmax loses the small probabilities.
        raw = keras.layers.Dense(n_outputs, activation="softmax" if task == "classification" else None,
                                 dtype="float32", name="output", kernel_initializer=kernel(seed, 0),
                                 kernel_regularizer=decay(spec.l2))(x)
    else:
        raw = user_body(augmented, spec, fam, n_outputs, image)
        if task == "classification":
            raw = keras.layers.Activation("softmax", dtype="float32", name="output")(raw)
    if task == "classification":
        outputs, loss, metrics = raw, "sparse_categorical_crossentropy", ["accuracy"]
    else:
        mean, scale = target_scale
        outputs = keras.layers.Rescaling(scale=scale, offset=mean, dtype="float32", name="to_target_units")(raw)
        loss, metrics = StandardizedMSE(scale), ["mae"]
    model = keras.Model(inputs, outputs, name=fam.name if fam.build_function is None else "user_model")
    if model.losses:  # weight penalties: Keras' loss includes them, the data's own loss is recorded beside it
        metrics = [*metrics, keras.metrics.SparseCategoricalCrossentropy(name=DATA_LOSS) if task == "classification"
                   else keras.metrics.MeanSquaredError(name=DATA_LOSS)]
    # Many steps per call into TensorFlow: per-step Python overhead dominates networks this small on a CPU.
    model.compile(optimizer=make_optimizer(spec), loss=loss, metrics=metrics, steps_per_execution=STEPS_PER_EXECUTION)
    return model


def check_buildable(spec: ModelSpec, input_shape: tuple[int, ...], task: str, n_classes: int) -> None:
    """Build `spec` once for the data, so that a family that does not fit it (a build function that fails, the
    CNN on a table) is reported before any run is written. A user's model is also saved and loaded back as the
    registered model will be (Keras' safe mode): a Lambda layer or an unregistered custom layer would otherwise
    fail only at promotion, after every stage trained."""
    import tempfile
    from pathlib import Path

    model = build_model(spec, input_shape, task, n_classes)
    if is_user_function(spec.family):
        with tempfile.TemporaryDirectory(prefix="check-model-") as folder:
            model.save(Path(folder) / "model.keras")
            try:
                keras.saving.load_model(Path(folder) / "model.keras", safe_mode=True, compile=False)
            except Exception as error:
                raise ModelError(f"--model {spec.family!r}: the model does not load back from a .keras file, so it "
                                 f"could not be registered: {type(error).__name__}: {str(error)[:400]} (register "
                                 "custom layers with keras.saving.register_keras_serializable; Lambda layers are not "
                                 "loaded in safe mode)") from error
    keras.backend.clear_session(free_memory=False)
