from dataclasses import replace

import pytest

from training.config import PipelineConfig
from training.method.grids import (
    BASE,
    SCHEDULE_VARIANTS,
    baseline_spec,
    capacity_grid,
    regularization_grid,
    schedule_grid,
)
from training.model.build import build_model
from training.model.spec import ModelSpec

BASE_SPEC = ModelSpec(units=(128, 64), epochs=30, batch_size=32)


def test_baseline_follows_the_profile():
    assert baseline_spec(PipelineConfig(profile="quick")) == ModelSpec(units=(128, 64), epochs=3, batch_size=64,
                                                                       augment_transforms=("noise",))
    # The run's augmentation transforms travel with the base at strength 0: off until a rung sets a strength.
    images = baseline_spec(PipelineConfig(data="digits-images"))
    assert (images.augment, images.augment_transforms) == (0.0, ("rotation", "translation", "zoom", "contrast"))
    assert baseline_spec(PipelineConfig(augment=["none"])).augment_transforms == ()


def test_capacity_grid_standard_is_exact_and_spans_the_base():
    grid = capacity_grid(BASE_SPEC, PipelineConfig())
    assert {name: spec.units for name, spec in grid.items()} == {
        "base": (128, 64), "units-32": (32,), "units-64-64": (64, 64), "units-256-128-64": (256, 128, 64),
        "units-512-256-128-64": (512, 256, 128, 64)}
    params = {name: build_model(spec, 64, "classification", 10).count_params() for name, spec in grid.items()}
    assert min(params.values()) < params[BASE] < max(params.values())  # at least one smaller and one larger


def test_capacity_grid_quick_and_override():
    assert list(capacity_grid(BASE_SPEC, PipelineConfig(profile="quick"))) == [
        "base", "units-32", "units-256-128-64"]
    grid = capacity_grid(BASE_SPEC, PipelineConfig(capacity_units=[[16], [128, 64], [64, 32, 16]]))
    assert list(grid) == ["base", "units-16", "units-64-32-16"]  # the base is not trained twice


def test_regularization_grid_standard():
    grid = regularization_grid(BASE_SPEC, PipelineConfig())
    assert {name: (s.dropout, s.batchnorm, s.l2) for name, s in grid.items()} == {
        "base": (0.0, False, 0.0), "dropout-0.2": (0.2, False, 0.0), "dropout-0.3": (0.3, False, 0.0),
        "dropout-0.5": (0.5, False, 0.0), "batchnorm": (0.0, True, 0.0), "dropout-0.3+batchnorm": (0.3, True, 0.0),
        "l2-0.001": (0.0, False, 1e-3), "l2-0.01": (0.0, False, 1e-2), "l2-0.03": (0.0, False, 3e-2)}
    assert all(s.units == BASE_SPEC.units for s in grid.values())
    # With the run's transforms on the base, the augmentation rungs join: one per strength of the profile.
    grid = regularization_grid(replace(BASE_SPEC, augment_transforms=("noise",)), PipelineConfig())
    assert {name: s.augment for name, s in grid.items() if s.augment} == {"noise-0.1": 0.1, "noise-0.2": 0.2,
                                                                         "noise-0.3": 0.3}
    flip = PipelineConfig(data="digits-images", augment=["rotation", "flip"], augment_strengths=[0.15])
    grid = regularization_grid(baseline_spec(flip), flip)
    assert grid["augment-0.15"].augment_transforms == ("rotation", "flip")


def test_regularization_grid_override():
    grid = regularization_grid(BASE_SPEC, PipelineConfig(dropout_rates=[0.1, 0.4], l2_factors=[0.05]))
    assert list(grid) == ["base", "dropout-0.1", "dropout-0.4", "batchnorm", "dropout-0.4+batchnorm", "l2-0.05"]
    # A base that already decays with a listed factor is not trained twice.
    assert "l2-0.01" not in regularization_grid(replace(BASE_SPEC, l2=0.01), PipelineConfig())
    assert not any(name.startswith("l2-") for name in regularization_grid(BASE_SPEC, PipelineConfig(profile="quick")))


def test_schedule_grid_standard_and_full():
    grid = schedule_grid(BASE_SPEC, PipelineConfig())
    assert list(grid) == ["base", "exponential-decay", "step-halve-every-5", "reduce-on-plateau", "early-stopping",
                          "checkpoint-best"]
    assert grid["step-halve-every-5"].schedule == "step" and grid["step-halve-every-5"].decay_every == 5
    assert grid["early-stopping"].early_stopping and grid["checkpoint-best"].checkpoint_best
    assert grid["reduce-on-plateau"].reduce_on_plateau and grid["base"].schedule == "constant"
    full = schedule_grid(BASE_SPEC, PipelineConfig(profile="full"))
    assert (full["step-tenth-every-20"].decay_rate, full["step-tenth-every-20"].decay_every) == (0.1, 20)
    assert list(full)[1:] == list(SCHEDULE_VARIANTS)


def test_unknown_schedule_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown schedule variant.*'cosine'"):
        PipelineConfig(schedule_variants=["cosine"])


@pytest.mark.parametrize("grid", [capacity_grid, regularization_grid, schedule_grid])
def test_every_variant_builds_with_its_blocks_in_order(grid):
    for name, spec in grid(BASE_SPEC, PipelineConfig(profile="full")).items():
        model = build_model(spec, 64, "classification", 10)
        expected = []
        for _ in spec.units:
            expected += (["Dropout"] if spec.dropout else []) + ["Dense"] + (
                ["BatchNormalization"] if spec.batchnorm else []) + ["Activation"]
        assert [type(layer).__name__ for layer in model.layers[1:-1]] == expected, name


def test_tuning_retrains_the_best_trial_only_when_it_is_not_the_base():
    from training.method.grids import tuning_grid

    best = replace(BASE_SPEC, learning_rate=0.01, epochs=3)  # a trial's budget, not the full epochs
    assert tuning_grid(BASE_SPEC, best) == {BASE: BASE_SPEC, "best-trial": replace(best, epochs=BASE_SPEC.epochs)}
    assert tuning_grid(BASE_SPEC, replace(BASE_SPEC, epochs=3)) == {BASE: BASE_SPEC}


def test_augmentation_is_configured_for_the_datas_kind():
    assert PipelineConfig().augment_transforms == ("noise",)
    assert PipelineConfig(data="digits-images").augment_transforms == ("rotation", "translation", "zoom", "contrast")
    assert PipelineConfig(data="digits-images", augment=["flip", "zoom", "flip"]).augment_transforms == ("flip", "zoom")
    with pytest.raises(ValueError, match=r"augment \['rotation'\] does not apply to table rows of data 'digits'"):
        PipelineConfig(augment=["rotation"])
    with pytest.raises(ValueError, match=r"augment \['noise'\] does not apply to images"):
        PipelineConfig(data="digits-images", augment=["noise"])
    with pytest.raises(ValueError, match="unknown augment transform.*'shear'"):
        PipelineConfig(augment=["shear"])
    with pytest.raises(ValueError, match="none means no augmentation, alone"):
        PipelineConfig(augment=["none", "noise"])
    with pytest.raises(ValueError, match="augment_strengths must be strengths in"):
        PipelineConfig(augment_strengths=[1.5])
