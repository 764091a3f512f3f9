"""The search space: `hp` -> ModelSpec, with the incoming winner's values as every default. Pure."""

from __future__ import annotations

from dataclasses import replace

import keras_tuner as kt

from training.model.families import family
from training.model.spec import ACTIVATIONS, OPTIMIZERS, ModelSpec

MAX_LAYERS = 4
BATCH_SIZES = (16, 32, 64, 128)
DROPOUT_RATES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
L2_FACTORS = (0.0, 1e-4, 1e-3, 1e-2, 3e-2)
LEARNING_RATE_RANGE = (1e-4, 1e-1)
AUGMENT_STRENGTHS = (0.0, 0.1, 0.2, 0.3)


def _with(values: tuple, default) -> list:
    """The choices plus the base's own value, so the base is always expressible in the space."""
    return sorted({*values, default})


def spec_from_hp(hp: kt.HyperParameters, base: ModelSpec, centred: bool = False) -> ModelSpec:
    """Declare the space on `hp` (defaults = `base`) and return the spec its current values describe.

    Called by the hypermodel for every trial; with fresh `HyperParameters()` it returns `base` itself.
    Schedule and callback settings are not searched: they stay as the schedule stage chose them, and only the
    knobs the base's family declares are (a knob a user's build function ignores would make trials that repeat
    each other). `centred` (the adaptive strategy): the space around the incoming winner
    (centred_spec_from_hp), not the whole range.
    """
    if centred:
        return centred_spec_from_hp(hp, base)
    fam = family(base.family)
    values = {}
    if fam.declares("units"):
        most = max(MAX_LAYERS, len(base.units))
        layers = hp.Int("layers", 1, most, default=len(base.units))
        units = []
        for i in range(layers):
            default = base.units[i] if i < len(base.units) else base.units[-1]
            # Per-layer units, so the search can keep the course's shrinking pattern or break it.
            with hp.conditional_scope("layers", list(range(i + 1, most + 1))):
                units.append(hp.Choice(f"units_{i}", _with(fam.widths, default), default=default))
        values["units"] = tuple(units)
    if fam.declares("activation"):
        values["activation"] = hp.Choice("activation", _with(ACTIVATIONS, base.activation), default=base.activation)
    values["optimizer"] = hp.Choice("optimizer", list(OPTIMIZERS), default=base.optimizer)
    values["learning_rate"] = hp.Float("learning_rate", min(LEARNING_RATE_RANGE[0], base.learning_rate),
                                       max(LEARNING_RATE_RANGE[1], base.learning_rate), sampling="log",
                                       default=base.learning_rate)
    values["batch_size"] = hp.Choice("batch_size", _with(BATCH_SIZES, base.batch_size), default=base.batch_size)
    if fam.declares("dropout"):
        values["dropout"] = hp.Choice("dropout", _with(DROPOUT_RATES, base.dropout), default=base.dropout)
    if fam.declares("l2"):
        values["l2"] = hp.Choice("l2", _with(L2_FACTORS, base.l2), default=base.l2)
    if fam.declares("batchnorm"):
        values["batchnorm"] = hp.Boolean("batchnorm", default=base.batchnorm)
    if base.augment_transforms:  # the run's transforms (none: --augment none); every family takes augmentation
        values["augment"] = hp.Choice("augment", _with(AUGMENT_STRENGTHS, base.augment), default=base.augment)
    return replace(base, **values)


def centred_spec_from_hp(hp: kt.HyperParameters, base: ModelSpec) -> ModelSpec:
    """The search space around the incoming winner, which the earlier stages already moved to a good region:
    one layer fewer or more, each layer half, as wide or twice as wide, the learning rate within 10x either way
    (the playbook's nuisance hyperparameter: a network of another size may want another rate), half or twice
    the batch size, a little less or more dropout, weight decay and augmentation. Only the knobs the family declares
    (augmentation, which acts on the inputs, whenever the run has transforms)."""
    fam = family(base.family)
    values = {}
    if fam.declares("units"):
        most = len(base.units) + 1
        layers = hp.Int("layers", max(1, len(base.units) - 1), most, default=len(base.units))
        units = []
        for i in range(layers):
            default = base.units[i] if i < len(base.units) else max(8, base.units[-1] // 2)
            with hp.conditional_scope("layers", list(range(i + 1, most + 1))):
                units.append(hp.Choice(f"units_{i}", sorted({max(8, default // 2), default, default * 2}),
                                       default=default))
        values["units"] = tuple(units)
    if fam.declares("activation"):
        values["activation"] = hp.Choice("activation", _with(ACTIVATIONS, base.activation), default=base.activation)
    values["learning_rate"] = hp.Float("learning_rate", base.learning_rate / 10,
                                       max(base.learning_rate, min(1.0, base.learning_rate * 10)),
                                       sampling="log", default=base.learning_rate)
    values["batch_size"] = hp.Choice("batch_size", sorted({max(8, base.batch_size // 2), base.batch_size,
                                                           base.batch_size * 2}), default=base.batch_size)
    if fam.declares("dropout"):
        # The base's own value always among the choices (Keras Tuner refuses a default outside them).
        dropouts = _with({round(min(0.6, max(0.0, base.dropout + step)), 2) for step in (-0.1, 0.1, 0.2)},
                         base.dropout)
        values["dropout"] = hp.Choice("dropout", dropouts, default=base.dropout)
    if fam.declares("l2"):
        l2s = sorted({v for v in (0.0, base.l2 / 10, base.l2, base.l2 * 10) if v < 1} if base.l2
                     else {0.0, 1e-4, 1e-3})
        values["l2"] = hp.Choice("l2", l2s, default=base.l2)
    if fam.declares("batchnorm"):
        values["batchnorm"] = hp.Boolean("batchnorm", default=base.batchnorm)
    if base.augment_transforms:
        strengths = _with({round(min(0.9, max(0.0, base.augment + step)), 2) for step in (-0.1, 0.1)}, base.augment)
        values["augment"] = hp.Choice("augment", strengths, default=base.augment)
    return replace(base, **values)
