"""Which candidate to register, and whether it may take `champion`. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from training.config import Selection
from training.selection import select_winner

CHAMPION, CHALLENGER = "champion", "challenger"


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


def decide(test_score: float, champion_score: float | None, selection: Selection,
           champion_unscorable: str | None = None) -> tuple[str, str]:
    """(alias, reason): the first model and any model strictly better on the same test rows become champion.

    A champion that cannot score today's test rows at all (another schema or task under the same model
    name) cannot serve this data either, so the new model replaces it, and the reason says why.
    """
    if champion_unscorable:
        return CHAMPION, f"the champion cannot score this data ({champion_unscorable})"
    if champion_score is None:
        return CHAMPION, "first registered model"
    if selection.better(test_score, champion_score):
        return CHAMPION, f"beats the champion on the test split ({test_score:.4f} vs {champion_score:.4f})"
    return CHALLENGER, f"does not beat the champion on the test split ({test_score:.4f} vs {champion_score:.4f})"


def recorded_champion_score(champion_tags: dict[str, str], fingerprint: str, test_metric: str) -> float | None:
    """The champion's own test score when it was measured on this very split; None means: score it again."""
    if champion_tags.get("data.fingerprint") == fingerprint and test_metric in champion_tags:
        return float(champion_tags[test_metric])
    return None
