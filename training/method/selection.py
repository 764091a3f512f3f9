"""Candidate results, picking a stage's winner, and the comparison table. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from training.config import Selection
from training.method.diagnosis import Diagnosis
from training.model.spec import ModelSpec

if TYPE_CHECKING:  # only for the annotation: a stage's results are read without TensorFlow
    from training.method.fit import FitResult


@dataclass
class CandidateResult:
    name: str
    spec: ModelSpec
    run_id: str
    model_uri: str
    score: float  # the logged model's score on the selection metric (validation split)
    val_scores: dict[str, float]
    diagnosis: Diagnosis
    fit_seconds: float
    param_count: int
    epochs_run: int
    history: dict[str, list[float]] = field(repr=False, default_factory=dict)
    score_se: float = 0.0  # standard error of `score` over the validation rows (training.method.noise)
    val_rows: list[float] = field(repr=False, default_factory=list)  # per-row values whose mean is `score`

    @classmethod
    def of_fit(cls, name: str, spec: ModelSpec, run_id: str, model_uri: str, result: FitResult) -> CandidateResult:
        return cls(name=name, spec=spec, run_id=run_id, model_uri=model_uri, score=result.score,
                   val_scores=result.val_scores, diagnosis=result.diagnosis, fit_seconds=result.fit_seconds,
                   param_count=result.param_count, epochs_run=result.epochs_run, history=result.history,
                   score_se=result.score_se,
                   val_rows=[] if result.val_rows is None else result.val_rows.tolist())


@dataclass
class StageResult:
    stage: str
    run_id: str
    metric: str
    direction: str
    candidates: list[CandidateResult]
    winner: CandidateResult
    reference: str | None  # name of the incoming base among the candidates, if any
    seconds: float
    story: str = ""  # the adaptive strategy's path in words (training.method.strategy); empty for a grid
    margin: float | None = None  # the noise margin a candidate had to beat (adaptive strategy)
    decisions: dict[str, str] = field(default_factory=dict)  # candidate name -> why it was kept or not
    reused: tuple[str, ...] = ()  # candidates taken from an earlier stage's run, not trained here

    @property
    def reference_result(self) -> CandidateResult | None:
        return next((c for c in self.candidates if c.name == self.reference), None)


def select_winner(candidates: list[CandidateResult], selection: Selection) -> CandidateResult:
    """The best score wins; a tie goes to the smaller model, then to the earlier candidate."""
    if not candidates:
        raise ValueError("a stage needs at least one candidate")
    winner = candidates[0]
    for candidate in candidates[1:]:
        if selection.better(candidate.score, winner.score) or (
            candidate.score == winner.score and candidate.param_count < winner.param_count
        ):
            winner = candidate
    return winner


def comparison_table(candidates: list[CandidateResult], selection: Selection, winner: str,
                     decisions: dict[str, str] | None = None, reused: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per candidate, best first, with what a person compares in the UI (and, for the adaptive strategy,
    why each step was kept or not; a base reused from the previous stage says so)."""
    decisions = {**(decisions or {}), **{name: "incoming winner, trained in the previous stage" for name in reused}}
    rows = [
        {
            "variant": c.name,
            "winner": "yes" if c.name == winner else "",
            selection.metric: c.score,
            "best_epoch": c.diagnosis.best_epoch,
            "epochs": c.epochs_run,
            "regime": c.diagnosis.regime,
            "params": c.param_count,
            "fit_seconds": round(c.fit_seconds, 2),
            "spec": c.spec.describe(),
            **({"decision": decisions.get(c.name, "")} if decisions else {}),
            "run_id": c.run_id,
        }
        for c in candidates
    ]
    table = pd.DataFrame(rows)
    return table.sort_values(selection.metric, ascending=selection.direction == "min", kind="stable")


def verdict(result: StageResult) -> str:
    """The adaptive strategy's story; for a grid, one sentence: which variant won, by how much over the incoming
    base, and why."""
    if result.story:
        return result.story
    winner, base = result.winner, result.reference_result
    if base is None or base.name == winner.name:
        why = "the incoming base stayed best" if base is not None else "best of the candidates"
        return (f"{winner.name} wins with {result.metric} {winner.score:.4f} ({why}); "
                f"{winner.diagnosis.advice}")
    delta = winner.score - base.score
    return (f"{winner.name} wins with {result.metric} {winner.score:.4f}, {delta:+.4f} over the incoming "
            f"{base.name} ({base.score:.4f}); {winner.diagnosis.advice}")


def pipeline_story(stages: list[StageResult]) -> str:
    """The adaptive path of a whole pipeline run, one line per stage that has a story."""
    return "\n".join(f"{s.stage}: {s.story}" for s in stages if s.story)


def stage_result_to_dict(result: StageResult) -> dict:
    """What a later attempt of the same pipeline run needs to reuse a finished stage (curves stay in MLflow)."""
    def candidate(c: CandidateResult) -> dict:
        return {"name": c.name, "spec": asdict(c.spec), "run_id": c.run_id, "model_uri": c.model_uri,
                "score": c.score, "val_scores": c.val_scores, "diagnosis": asdict(c.diagnosis),
                "fit_seconds": c.fit_seconds, "param_count": c.param_count, "epochs_run": c.epochs_run,
                "score_se": c.score_se,
                # The winner's rows and curves only: it is the next stage's incoming base, judged against and
                # plotted on resume too (every candidate's curves are in its MLflow run).
                **({"val_rows": c.val_rows, "history": c.history} if c is result.winner else {})}

    return {"stage": result.stage, "run_id": result.run_id, "metric": result.metric, "direction": result.direction,
            "candidates": [candidate(c) for c in result.candidates], "winner": result.winner.name,
            "reference": result.reference, "seconds": result.seconds, "story": result.story,
            "margin": result.margin, "decisions": result.decisions, "reused": list(result.reused)}


def stage_result_from_dict(data: dict) -> StageResult:
    candidates = [CandidateResult(
        name=c["name"], spec=ModelSpec(**{**c["spec"], "notes": tuple(c["spec"].get("notes", ()))}),
        run_id=c["run_id"], model_uri=c["model_uri"], score=c["score"], val_scores=c["val_scores"],
        diagnosis=Diagnosis(**c["diagnosis"]), fit_seconds=c["fit_seconds"], param_count=c["param_count"],
        epochs_run=c["epochs_run"], score_se=c.get("score_se", 0.0), val_rows=c.get("val_rows", []),
        history=c.get("history", {}))
        for c in data["candidates"]]
    winner = next(c for c in candidates if c.name == data["winner"])
    return StageResult(stage=data["stage"], run_id=data["run_id"], metric=data["metric"],
                       direction=data["direction"], candidates=candidates, winner=winner,
                       reference=data["reference"], seconds=data["seconds"], story=data.get("story", ""),
                       margin=data.get("margin"), decisions=data.get("decisions", {}),
                       reused=tuple(data.get("reused", ())))
