import keras_tuner as kt
import pytest

from training.model.build import build_model
from training.model.spec import ModelSpec
from tuning.space import spec_from_hp

BASE = ModelSpec(units=(256, 128, 64), dropout=0.2, batchnorm=True, optimizer="rmsprop", learning_rate=3e-4,
                 batch_size=64, epochs=7, schedule="step")


def test_fresh_hyperparameters_give_the_incoming_winner():
    hp = kt.HyperParameters()
    assert spec_from_hp(hp, BASE) == BASE
    assert hp.values == {"layers": 3, "units_0": 256, "units_1": 128, "units_2": 64, "activation": "relu",
                         "optimizer": "rmsprop", "learning_rate": 3e-4, "batch_size": 64, "dropout": 0.2,
                         "l2": 0.0, "batchnorm": True}


def test_values_outside_the_usual_choices_are_still_expressible():
    odd = ModelSpec(units=(100,), dropout=0.25, batch_size=48, learning_rate=0.5)
    assert spec_from_hp(kt.HyperParameters(), odd) == odd


def test_chosen_values_become_the_spec():
    hp = kt.HyperParameters()
    spec_from_hp(hp, BASE)  # declare the space
    hp.values.update(layers=1, units_0=32, activation="tanh", optimizer="sgd", learning_rate=0.01, batch_size=16,
                     dropout=0.0, batchnorm=False)
    spec = spec_from_hp(hp, BASE)
    assert (spec.units, spec.activation, spec.optimizer, spec.learning_rate, spec.batch_size, spec.dropout,
            spec.batchnorm) == ((32,), "tanh", "sgd", 0.01, 16, 0.0, False)
    assert (spec.epochs, spec.schedule) == (7, "step")  # not searched: kept from the base


@pytest.mark.parametrize("seed", range(25))
def test_every_random_point_of_the_space_is_a_valid_buildable_spec(seed):
    space = kt.HyperParameters()
    spec_from_hp(space, BASE)
    hp = kt.HyperParameters()
    for param in space.space:  # declared in order, so conditions see their parents' values
        hp.merge([param])
        if hp.is_active(param):
            hp.values[param.name] = param.random_sample(seed * 100 + len(hp.values))
    spec = spec_from_hp(hp, BASE)
    assert len(spec.units) == hp.values["layers"]
    model = build_model(spec, 64, "classification", 10)
    assert model.output_shape == (None, 10)


def test_the_centred_space_holds_any_base_as_its_first_point():
    for base in (ModelSpec(units=(64, 32, 16, 8, 8, 8), dropout=0.7, l2=0.3, learning_rate=2.0),
                 ModelSpec(units=(128, 64), dropout=0.333)):
        assert spec_from_hp(kt.HyperParameters(), base, centred=True) == base
    hp = kt.HyperParameters()
    spec_from_hp(hp, ModelSpec(units=(128, 64), learning_rate=1e-3), centred=True)
    space = {p.name: p for p in hp.space}
    assert (space["layers"].min_value, space["layers"].max_value) == (1, 3)
    assert list(space["units_0"].values) == [64, 128, 256]
    assert (space["learning_rate"].min_value, space["learning_rate"].max_value) == pytest.approx((1e-4, 1e-2))


def test_augmentation_is_a_dimension_when_the_run_has_transforms():
    hp = kt.HyperParameters()
    assert spec_from_hp(hp, BASE) == BASE and "augment" not in hp.values  # --augment none: not searched
    noisy = ModelSpec(units=(64,), augment_transforms=("noise",))
    hp = kt.HyperParameters()
    spec_from_hp(hp, noisy)
    assert list({p.name: p for p in hp.space}["augment"].values) == [0.0, 0.1, 0.2, 0.3]
    hp.values["augment"] = 0.2
    assert spec_from_hp(hp, noisy).augment == 0.2
    hp = kt.HyperParameters()
    assert spec_from_hp(hp, noisy, centred=True) == noisy
    assert list({p.name: p for p in hp.space}["augment"].values) == [0.0, 0.1]
