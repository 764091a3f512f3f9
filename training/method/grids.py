"""The stage grids as data: named specs made from a base with dataclasses.replace.

A grid is a table name -> spec; the name becomes the MLflow run name. The incoming base is always the
candidate named "base", so a stage can never hand on a worse model than it received.
"""

from __future__ import annotations

from dataclasses import replace

from training.config import PipelineConfig
from training.model.families import family
from training.model.spec import SCHEDULE_VARIANTS, ModelSpec

BASE = "base"

# Capacity: the network grown and shrunk, units shrinking by layer, blocks repeated in a pattern.
CAPACITY_UNITS = {
    "quick": [(32,), (256, 128, 64)],
    "standard": [(32,), (64, 64), (256, 128, 64), (512, 256, 128, 64)],
    "full": [(32,), (64,), (64, 64), (256, 128, 64), (128, 128, 128), (512, 256, 128, 64),
             (1024, 512, 256, 128)],
}

# The CNN's filters per block, growing by block (the course's convolutional pattern).
CAPACITY_FILTERS = {
    "quick": [(8, 16), (32, 64)],
    "standard": [(8, 16), (32, 64), (16, 32, 64), (32, 64, 128)],
    "full": [(8,), (8, 16), (32, 64), (16, 32, 64), (32, 64, 128), (64, 128, 256)],
}

# Regularization: (dropout rate, batch normalization) pairs, in the block order Dropout -> Dense -> BN -> Act.
REGULARIZATION = {
    "quick": [(0.2, False), (0.0, True)],
    "standard": [(0.2, False), (0.3, False), (0.5, False), (0.0, True), (0.3, True)],
    "full": [(0.2, False), (0.3, False), (0.5, False), (0.0, True), (0.2, True), (0.3, True), (0.5, True)],
}

# Regularization: L2 weight-decay factors, each on the base alone. On a small table an unregularized MLP fits
# noise (diabetes: 282 train rows, every network worse than ridge regression on the test rows); weight decay is
# the course's first answer, and the one that brings it level with a linear model and past it.
WEIGHT_DECAY = {
    # smoke runs: the path is the same as dropout's, and tests/training/model/test_build.py checks the layers
    "quick": [],
    "standard": [1e-3, 1e-2, 3e-2],
    "full": [1e-4, 1e-3, 1e-2, 3e-2],
}

# Regularization: augmentation strengths (training.model.spec: rotations within +-90s degrees, shifts and zooms
# within +-s, contrast within +-s; a table's noise of standard deviation s), each on the base alone. The course's
# first answer to overfitting is more data; augmentation multiplies the rows the network sees.
AUGMENT_STRENGTHS = {
    "quick": [0.1],
    "standard": [0.1, 0.2, 0.3],
    "full": [0.05, 0.1, 0.2, 0.3],
}

SCHEDULES_BY_PROFILE = {
    "quick": ["step-halve-every-5", "early-stopping"],
    "standard": ["exponential-decay", "step-halve-every-5", "reduce-on-plateau", "early-stopping",
                 "checkpoint-best"],
    "full": list(SCHEDULE_VARIANTS),
}

# Callbacks and schedules belong to the schedule stage; earlier stages compare networks on equal terms.
PLAIN_TRAINING = {"schedule": "constant", "reduce_on_plateau": False, "early_stopping": False,
                  "checkpoint_best": False}


def baseline_spec(config: PipelineConfig) -> ModelSpec:
    """The baseline of the course, no dropout, no batch normalization: for the MLP two shrinking hidden layers,
    for the CNN two blocks of growing filters, for a user's function the defaults its signature declares."""
    fam = family(config.resolved_model)
    # The transforms the augmentation rungs and the tuner may use travel with every spec, at strength 0 (off).
    return ModelSpec(family=fam.name, **fam.defaults, epochs=config.resolved_epochs,
                     batch_size=config.resolved_batch_size, augment_transforms=config.augment_transforms)


def units_name(units: tuple[int, ...]) -> str:
    return "units-" + "-".join(str(u) for u in units)


def capacity_grid(base: ModelSpec, config: PipelineConfig) -> dict[str, ModelSpec]:
    """The base plus smaller and larger networks (the config's `capacity_units`, else the profile's)."""
    grid = {BASE: base}
    profile_grid = (CAPACITY_FILTERS if base.family == "cnn" else CAPACITY_UNITS)[config.profile]
    for units in config.capacity_units or profile_grid:
        units = tuple(units)
        if units != base.units:
            grid[units_name(units)] = replace(base, units=units)
    return grid


def augment_name(strength: float, transforms: tuple[str, ...]) -> str:
    return f"{'noise' if transforms == ('noise',) else 'augment'}-{strength:g}"


def augment_rungs(base: ModelSpec, config: PipelineConfig) -> list[tuple[str, ModelSpec]]:
    """The augmentation rungs stronger than the base's own, weakest first, with the transforms the base carries
    (the config's, from baseline_spec); none when the config says none."""
    transforms = base.augment_transforms
    if not transforms:
        return []
    strengths = config.augment_strengths or AUGMENT_STRENGTHS[config.profile]
    return [(augment_name(s, transforms), replace(base, augment=s))
            for s in sorted(set(strengths)) if s > base.augment]


def regularization_grid(base: ModelSpec, config: PipelineConfig) -> dict[str, ModelSpec]:
    """The base plus dropout rates, batch normalization, both together, L2 weight decay and augmentation."""
    if config.dropout_rates is not None:
        pairs = [(rate, False) for rate in config.dropout_rates] + [(0.0, True)]
        pairs += [(rate, True) for rate in config.dropout_rates[1:2]]
    else:
        pairs = REGULARIZATION[config.profile]
    grid = {BASE: base}
    for rate, batchnorm in pairs:
        if (rate, batchnorm) == (base.dropout, base.batchnorm):
            continue
        name = "+".join(part for part in (f"dropout-{rate:g}" if rate else "", "batchnorm" if batchnorm else "")
                        if part)
        grid[name] = replace(base, dropout=rate, batchnorm=batchnorm)
    for factor in config.l2_factors or WEIGHT_DECAY[config.profile]:
        if factor != base.l2:
            grid[f"l2-{factor:g}"] = replace(base, l2=factor)
    grid.update(augment_rungs(base, config))
    return grid


def tuning_grid(base: ModelSpec, best_trial: ModelSpec) -> dict[str, ModelSpec]:
    """The incoming base and the search's best trial, retrained for the base's full epochs on the same path as
    every candidate; when the search found nothing but the base itself, there is nothing new to retrain."""
    best = replace(best_trial, epochs=base.epochs)
    return {BASE: base} if best == base else {BASE: base, "best-trial": best}


def schedule_grid(base: ModelSpec, config: PipelineConfig) -> dict[str, ModelSpec]:
    """The base at a constant rate plus decay schedules and callbacks (the config's `schedule_variants`)."""
    base = replace(base, **PLAIN_TRAINING)
    grid = {BASE: base}
    for name in config.schedule_variants or SCHEDULES_BY_PROFILE[config.profile]:
        grid[name] = replace(base, **SCHEDULE_VARIANTS[name])
    return grid
