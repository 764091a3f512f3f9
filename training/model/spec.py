"""ModelSpec: one variant of the network and its training, described as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

OPTIMIZERS = ("adam", "sgd", "rmsprop")
ACTIVATIONS = ("relu", "elu", "selu", "tanh", "gelu", "swish")
SCHEDULES = ("constant", "exponential", "step")

# The schedule stage's named variants: schedules and callbacks as spec fields (the constant rate is the
# base itself). Here, beside the fields they set, so the config can check names without the grids.
SCHEDULE_VARIANTS: dict[str, dict] = {
    "exponential-decay": {"schedule": "exponential", "decay_rate": 0.5, "decay_every": 10},
    "step-halve-every-5": {"schedule": "step", "decay_rate": 0.5, "decay_every": 5},
    "step-tenth-every-20": {"schedule": "step", "decay_rate": 0.1, "decay_every": 20},
    "reduce-on-plateau": {"reduce_on_plateau": True, "patience": 4},
    "early-stopping": {"early_stopping": True, "patience": 5},
    "checkpoint-best": {"checkpoint_best": True},
}


# Augmentation (the course's "more data" remedy), active in training only: transforms of images, or Gaussian
# noise on a table's standardized features. Flips are named only on purpose: a flipped digit or letter is another
# symbol. training.model.build maps a strength to each transform's range.
IMAGE_TRANSFORMS = ("rotation", "translation", "zoom", "contrast", "flip")
TABLE_TRANSFORMS = ("noise",)
DEFAULT_IMAGE_TRANSFORMS = ("rotation", "translation", "zoom", "contrast")

# The loss without weight penalties, which a model with them records beside Keras' loss (training.model.build) and
# the diagnosis reads (training.method.diagnosis); its validation twin is `val_` + it.
DATA_LOSS = "data_loss"


def data_metric(metric: str, reported) -> str:
    """The key that holds `metric`'s values among the `reported` ones: for the loss (`loss`, `val_loss`), the loss
    without weight penalties where the model reports it, so that a model is never chosen or diagnosed for a
    penalty that shrinks as its weights do; any other metric as it is."""
    twin = metric.replace("loss", DATA_LOSS) if metric.removeprefix("val_") == "loss" else metric
    return twin if twin in reported else metric


@dataclass(frozen=True)
class ModelSpec:
    """`family` names what builds the network (training.model.families): `mlp`, `cnn`, or a user's
    `path/to/file.py:function`. Its blocks are Dropout -> layer -> BatchNormalization -> Activation, one per entry
    of `units` (hidden widths of the MLP, filters per block of the CNN); `l2` is the L2 weight-decay factor on
    every kernel (Keras' `L2(l2)`: l2 * sum(w**2) added to the loss). A user's function gets the knobs it
    declares.

    The builder reads these flags, never a variant's name, so any combination is a valid model.
    """

    family: str = "mlp"
    units: tuple[int, ...] = (128, 64)
    dropout: float = 0.0
    l2: float = 0.0
    batchnorm: bool = False
    # Augmentation's strength (0: none) and its transforms, in training only; the served model sees the rows as
    # they are. At strength s: rotations within +-90s degrees, shifts and zooms within +-s of the side, contrast
    # within +-s; for tables, noise of standard deviation s on the standardized features.
    augment: float = 0.0
    augment_transforms: tuple[str, ...] = ()
    activation: str = "relu"
    optimizer: Literal["adam", "sgd", "rmsprop"] = "adam"
    learning_rate: float = 1e-3
    # Learning-rate schedule per epoch: lr * decay_rate ** (epoch / decay_every), floored for "step".
    schedule: Literal["constant", "exponential", "step"] = "constant"
    decay_rate: float = 0.5
    decay_every: int = 5
    reduce_on_plateau: bool = False
    early_stopping: bool = False
    patience: int = 5
    checkpoint_best: bool = False
    epochs: int = 30
    batch_size: int = 32
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # Tuples may arrive as lists from JSON (Prefect parameters); normalise so specs hash and compare.
        object.__setattr__(self, "units", tuple(int(u) for u in self.units))
        object.__setattr__(self, "augment_transforms", tuple(str(t) for t in self.augment_transforms))
        problems = []
        if not self.family:
            problems.append("family must name mlp, cnn or a build function")
        if not self.units or any(u < 1 for u in self.units):
            problems.append(f"units must be one or more positive integers, got {self.units}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.l2 < 1.0:
            problems.append(f"l2 must be in [0, 1), got {self.l2}")
        problems += augmentation_problems(self.augment, self.augment_transforms)
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation {self.activation!r} is not one of {ACTIVATIONS}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r} is not one of {OPTIMIZERS}")
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be positive, got {self.learning_rate}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule {self.schedule!r} is not one of {SCHEDULES}")
        if not 0 < self.decay_rate <= 1 or self.decay_every < 1:
            problems.append(f"decay_rate must be in (0, 1] and decay_every >= 1, got {self.decay_rate}, "
                            f"{self.decay_every}")
        if self.reduce_on_plateau and self.schedule != "constant":
            problems.append("reduce_on_plateau needs the constant schedule: a schedule would override it each epoch")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            problems.append(f"epochs, batch_size and patience must be >= 1, got {self.epochs}, {self.batch_size}, "
                            f"{self.patience}")
        if problems:
            raise ValueError("invalid model spec: " + "; ".join(problems))

    def params(self) -> dict[str, str | int | float | bool]:
        """Flat parameters for tracking: every field, units as '128-64'."""
        values = asdict(self)
        values.pop("notes")
        values["units"] = "-".join(str(u) for u in self.units)
        values["augment_transforms"] = "-".join(self.augment_transforms) or "none"
        values["layers"] = len(self.units)
        return values

    def describe_network(self) -> str:
        """The network alone: its units and what regularizes it."""
        width = "filters" if self.family == "cnn" else "units"
        parts = [f"{width} " + "-".join(str(u) for u in self.units)]
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}")
        if self.l2:
            parts.append(f"l2 {self.l2:g}")
        if self.batchnorm:
            parts.append("batchnorm")
        if self.augment:
            kind = ("input noise" if self.augment_transforms == TABLE_TRANSFORMS
                    else "augment " + "+".join(self.augment_transforms))
            parts.append(f"{kind} {self.augment:g}")
        return ", ".join(parts)

    def describe_schedule(self) -> list[str]:
        """The learning-rate schedule and callbacks, when there are any."""
        parts = []
        if self.schedule != "constant":
            parts.append(f"{self.schedule} decay x{self.decay_rate:g}/{self.decay_every}ep")
        if self.reduce_on_plateau:
            parts.append("reduce-on-plateau")
        if self.early_stopping:
            parts.append(f"early-stopping p{self.patience}")
        if self.checkpoint_best:
            parts.append("checkpoint-best")
        return parts

    def describe(self) -> str:
        return ", ".join([self.describe_network(), f"{self.optimizer} lr {self.learning_rate:g}",
                          *self.describe_schedule()])


def augmentation_problems(strength: float, transforms: tuple[str, ...]) -> list[str]:
    """What is wrong with an augmentation's strength and transforms (empty: nothing)."""
    problems = []
    if not 0.0 <= strength < 1.0:
        problems.append(f"augment must be in [0, 1), got {strength}")
    unknown = [t for t in transforms if t not in IMAGE_TRANSFORMS + TABLE_TRANSFORMS]
    if unknown:
        problems.append(f"augment_transforms {unknown} are not among {IMAGE_TRANSFORMS + TABLE_TRANSFORMS}")
    elif set(transforms) & set(TABLE_TRANSFORMS) and set(transforms) & set(IMAGE_TRANSFORMS):
        problems.append(f"augment_transforms {list(transforms)} mix image transforms with a table's noise")
    if strength and not transforms:
        problems.append(f"augment {strength} needs augment_transforms to say what it does")
    return problems
