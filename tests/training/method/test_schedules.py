import pytest

from training.method.schedules import learning_rate_at
from training.model.spec import ModelSpec


def test_constant():
    assert [learning_rate_at(ModelSpec(), e) for e in (0, 10)] == [0.001, 0.001]


def test_step_decay_halves_every_five_epochs():
    spec = ModelSpec(learning_rate=0.01, schedule="step", decay_rate=0.5, decay_every=5)
    assert [learning_rate_at(spec, e) for e in (0, 4, 5, 9, 10, 15)] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025, 0.00125])


def test_step_decay_divides_by_ten_every_twenty_epochs():
    spec = ModelSpec(learning_rate=0.1, schedule="step", decay_rate=0.1, decay_every=20)
    assert [learning_rate_at(spec, e) for e in (19, 20, 40)] == pytest.approx([0.1, 0.01, 0.001])


def test_exponential_decay_is_smooth():
    spec = ModelSpec(learning_rate=0.01, schedule="exponential", decay_rate=0.5, decay_every=5)
    assert [learning_rate_at(spec, e) for e in (0, 1, 5, 10)] == pytest.approx(
        [0.01, 0.01 * 0.5 ** 0.2, 0.005, 0.0025])
