"""Which candidate to register, and whether it may take `champion`. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from training.config import Selection
from training.registry import CHALLENGER, CHAMPION
from training.selection import select_winner


@dataclass(frozen=True)
class Candidate:
    """A finished candidate run of a pipeline run, as the registry sees it."""

    run_id: str
    stage: str
    variant: str
    score: float  # validation score of the logged model on the selection metric
    param_count: int
    model_uri: str
    fingerprint: str


def choose(candidates: list[Candidate], selection: Selection, fingerprint: str) -> Candidate:
    """The best validation score among candidates of this split; ties go to the smaller model."""
    same_data = [c for c in candidates if c.fingerprint == fingerprint]
    if not same_data:
        raise ValueError(f"no finished candidate was trained on split {fingerprint}; "
                         f"{len(candidates)} candidate(s) on other data")
    return select_winner(same_data, selection)


def decide(test_score: float, champion_score: float | None, selection: Selection) -> tuple[str, str]:
    """(alias, reason): the first model and any model strictly better on the same test rows become champion."""
    if champion_score is None:
        return CHAMPION, "first registered model"
    if selection.better(test_score, champion_score):
        return CHAMPION, f"beats the champion on the test split ({test_score:.4f} vs {champion_score:.4f})"
    return CHALLENGER, f"does not beat the champion on the test split ({test_score:.4f} vs {champion_score:.4f})"
