"""The stage grids as data: named specs made from a base with dataclasses.replace."""

from __future__ import annotations

from training.config import PipelineConfig
from training.spec import ModelSpec


def baseline_spec(config: PipelineConfig) -> ModelSpec:
    """The baseline of the course: two shrinking hidden layers, no dropout, no batch normalization."""
    return ModelSpec(units=(128, 64), epochs=config.resolved_epochs, batch_size=config.resolved_batch_size)
