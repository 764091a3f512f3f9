"""Model families: what turns a spec's knobs into a Keras network, and which knobs the stages may vary.

Three kinds of family, named by `ModelSpec.family` (the `--model` option):
- `mlp`: blocks of Dropout -> Dense -> BatchNormalization -> Activation on a table's features (or on an image's
  pixels in one row, to compare it with the CNN on the same split).
- `cnn`: blocks of Dropout -> Conv2D -> BatchNormalization -> Activation -> MaxPooling on images, filters growing
  by block, then one dense block and the head.
- `path/to/file.py:function`: the user's own build function. It is called as
  `function(input_shape, n_outputs, **knobs)` and returns a `keras.Model` whose output has `n_outputs` raw values
  (the logits of the classes, or the standardized regression target): the pipeline adds the softmax, or the
  rescaling to the target's units, and compiles. The knobs it declares are the keyword parameters it names
  among KNOBS; their defaults in its signature are the baseline's values. Images reach it scaled to [0, 1].

This module only builds bodies; training.model adds the head and compiles. Pure: no tracking, no I/O but
importing a user's file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

from training.data_error import DataError

# Every knob a family may declare, in the order the stages vary them: capacity (units: hidden widths for the
# MLP, filters per block for the CNN), then regularization and the activation.
KNOBS = ("units", "dropout", "l2", "batchnorm", "activation")
BUILT_IN = ("mlp", "cnn")


class ModelError(DataError):
    """A build function that cannot be used; the message names the file and function, and quotes why. A user's
    input like a bad data file, so it is reported and handled as one."""


@dataclass(frozen=True)
class Family:
    """What a stage needs to know of a family: its knobs and their defaults, the data it takes, how capacity
    steps change its widths, and the widths the tuner may choose from."""

    name: str
    knobs: tuple[str, ...]
    defaults: dict  # the baseline's value of each declared knob
    takes: str  # "table", "image" or "any"
    deepen_by: float  # an added layer's width relative to the last one: 0.5 (MLP, shrinking), 2 (CNN, growing)
    widths: tuple[int, ...]  # the tuner's full-space choices of a width
    build_function: Callable | None = None  # the user's function; None for a built-in family

    def declares(self, knob: str) -> bool:
        return knob in self.knobs

    def skipped(self) -> tuple[str, ...]:
        """The knobs the stages leave alone, because the family does not declare them."""
        return tuple(k for k in KNOBS if k not in self.knobs)


MLP = Family("mlp", KNOBS, {"units": (128, 64)}, "any", 0.5, (32, 64, 128, 256, 512))
CNN = Family("cnn", KNOBS, {"units": (16, 32)}, "image", 2.0, (8, 16, 32, 64, 128))


def is_user_function(name: str) -> bool:
    return name not in BUILT_IN


def family(name: str) -> Family:
    """The family a spec names: a built-in one, or the user's function loaded from its file."""
    if name == "mlp":
        return MLP
    if name == "cnn":
        return CNN
    function = load_build_function(name)
    parameters = inspect.signature(function).parameters
    knobs = tuple(k for k in KNOBS if k in parameters)
    defaults = {k: parameters[k].default for k in knobs if parameters[k].default is not inspect.Parameter.empty}
    if "units" in defaults:
        if not isinstance(defaults["units"], list | tuple):
            raise ModelError(f"--model {name!r}: the default of `units` is {defaults['units']!r}; units are a tuple of "
                             "widths, e.g. units=(64, 32)")
        defaults["units"] = tuple(defaults["units"])
    check_defaults(name, defaults)
    return Family(name, knobs, defaults, "any", 0.5, MLP.widths, function)


def check_defaults(name: str, defaults: dict) -> None:
    """The function's defaults must make a valid spec (they are the baseline's values): one ModelError naming the
    function and the spec's complaint otherwise."""
    from training.spec import ModelSpec

    try:
        ModelSpec(family=name, **defaults)
    except (TypeError, ValueError) as error:
        raise ModelError(f"--model {name!r}: its keyword defaults {defaults} are not usable: {error}") from error


def split_reference(reference: str) -> tuple[Path, str]:
    """`path/to/file.py:function` -> (path, function name), or a ModelError saying what the form is."""
    path, colon, function = reference.rpartition(":")
    if not colon or not path.endswith(".py") or not function.isidentifier():
        raise ModelError(f"--model {reference!r}: expected mlp, cnn, or path/to/file.py:function")
    return Path(path).expanduser(), function


_loaded: dict[str, tuple[bytes, Callable]] = {}  # reference -> (the source it was imported from, the function)


def load_build_function(reference: str) -> Callable:
    """Import the file (once per process: a run trains every candidate with the code it started with) and return
    its function; every failure is one ModelError that names the file and quotes the import error or what the
    name is instead."""
    if reference in _loaded:
        return _loaded[reference][1]
    path, name = split_reference(reference)
    if not path.is_file():
        raise ModelError(f"--model {reference!r}: file {str(path)!r} does not exist")
    source = path.read_bytes()
    module_name = user_module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # custom layers registered there are found again when a model is loaded
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # a syntax error, a missing import, anything its top level raises
        sys.modules.pop(module_name, None)
        raise ModelError(f"--model {reference!r}: importing {path} failed: {type(error).__name__}: {error} "
                         f"(line {line_in(error, path)})") from error
    function = getattr(module, name, None)
    if function is None:
        raise ModelError(f"--model {reference!r}: {path} defines no {name!r}")
    if not callable(function):
        raise ModelError(f"--model {reference!r}: {path}: its {name!r} is a {type(function).__name__}, not a function")
    _loaded[reference] = (source, function)
    return function


def loaded_source(reference: str) -> bytes:
    """The source the build function was imported from in this process: what the registered model carries, even
    if the file was edited since the run started."""
    load_build_function(reference)
    return _loaded[reference][0]


def line_in(error: BaseException, path: Path) -> int | str:
    """The line of the user's file where the import failed (not a library's, deeper in the traceback)."""
    if isinstance(error, SyntaxError) and error.lineno:
        return error.lineno
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else "?"


def user_module_name(path: Path) -> str:
    """The module name a user's file is imported under, here and in the served model (which carries the file):
    a valid identifier, distinct for two files of one name in different folders."""
    stem = re.sub(r"\W", "_", Path(path).stem)
    return f"keras_mlops_user_{stem}_{hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:8]}"


# --- bodies ------------------------------------------------------------------------------------------------------

def layer_seed(seed: int | None, layer: int) -> int | None:
    """A fixed seed of its own for each random layer of a model built with `seed`; None without one."""
    return None if seed is None else (seed * 1009 + layer) % (2**31 - 1)


def kernel(seed: int | None, layer: int) -> keras.initializers.Initializer:
    return keras.initializers.GlorotUniform(seed=layer_seed(seed, layer))  # Dense's and Conv2D's default, seeded


def decay(l2: float) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L2(l2) if l2 else None


def dense_block(x, spec, units: int, i: int, seed: int | None):
    """The course's block order: Dropout -> Dense -> BatchNormalization -> Activation."""
    if spec.dropout > 0:
        x = keras.layers.Dropout(spec.dropout, seed=layer_seed(seed, 2 * i), name=f"block{i}_dropout")(x)
    # With batch normalization right after, the bias is redundant (BN's beta plays its part).
    x = keras.layers.Dense(units, use_bias=not spec.batchnorm, kernel_initializer=kernel(seed, 2 * i + 1),
                           kernel_regularizer=decay(spec.l2), name=f"block{i}_dense")(x)
    if spec.batchnorm:
        x = keras.layers.BatchNormalization(name=f"block{i}_batchnorm")(x)
    return keras.layers.Activation(spec.activation, name=f"block{i}_{spec.activation}")(x)


def mlp_body(inputs, spec, seed: int | None):
    x = inputs
    if len(inputs.shape) == 4:  # images: their pixels in one row, scaled to [0, 1] as the CNN scales them
        x = keras.layers.Flatten(name="flatten")(keras.layers.Rescaling(1 / 255, name="to_unit_range")(x))
    for i, units in enumerate(spec.units, start=1):
        x = dense_block(x, spec, units, i, seed)
    return x


def cnn_body(inputs, spec, seed: int | None):
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
            x = keras.layers.BatchNormalization(name=f"conv{i}_batchnorm")(x)
        x = keras.layers.Activation(spec.activation, name=f"conv{i}_{spec.activation}")(x)
        if size >= 2:
            x = keras.layers.MaxPooling2D(2, name=f"conv{i}_pool")(x)
            size //= 2
    x = keras.layers.Flatten(name="flatten")(x)
    return dense_block(x, spec, 2 * spec.units[-1], len(spec.units) + 1, seed)


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
