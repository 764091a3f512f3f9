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

This module declares the families; training.model.build builds their networks. Pure: no tracking, no TensorFlow, no
I/O but importing a user's file.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from training.serving.errors import DataError

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


@functools.cache
def family(name: str) -> Family:
    """The family a spec names: a built-in one, or the user's function loaded from its file (read once per
    process, as load_build_function does: the stages and the tuner ask for it per candidate and per trial)."""
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
    from training.model.spec import ModelSpec

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
