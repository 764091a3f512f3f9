"""The MLflow steps of a promotion, one function each; the promotion flow (flows/promotion.py) calls them in order:

1. `evaluate_winner`: the winner becomes the served pyfunc, and MLflow evaluates that very artifact on the test
   rows (what is registered is what was scored);
2. `compare_with_champion`: MLflow evaluates the champion on the same rows, in a child run, and validates the
   winner's evaluation against it with the gate's margins (or says why the champion cannot score today's rows);
3. `register_winner`: the version is created with its tags and card, and given its alias.

What is decided between them is not here: the baselines are training.method.baselines', the decision
training.method.gate's, the card training.report.model_card's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mlflow.exceptions import MlflowException

from training.checks.validation import HELD
from training.config import Gate, Selection
from training.data.split import Split
from training.method.baselines import BaselineScores
from training.method.gate import (
    CHAMPION,
    Candidate,
    PromotionResult,
    evaluation_tags,
    headline_metrics,
    metric_on_test,
    result_from_version,
    version_tags,
)
from training.method.scoring import evaluation_metric, expected_outputs, predict_test_rows
from training.model.families import family, is_user_function
from training.report.model_card import ChampionBefore, ModelCard
from training.report.plots import sample_images
from training.report.validation import profile_summary
from training.serving.errors import DataError
from training.tracking.datasets import log_split_inputs
from training.tracking.evaluation import EVALUATION_PREFIX, EvaluationResult, evaluate_predictions, gate_failure
from training.tracking.models import load_network, load_serving_model, log_serving_model, logged_model_id
from training.tracking.queries import finished_child
from training.tracking.registry import Registry
from training.tracking.runs import Tracker
from training.tracking.validation import DRIFTED_TAG, NO_VERDICT, STATUS_TAG, Verdict


@dataclass(frozen=True)
class WinnerEvaluation:
    """The winner as it will be registered, and how MLflow scored it on the test rows."""

    serving_uri: str  # the served pyfunc logged in the promotion run
    evaluation: EvaluationResult
    test_score: float  # the selection metric's test twin, by MLflow's evaluation
    spec_params: dict[str, str]  # the candidate run's params (its spec)
    candidate_tags: dict[str, str]  # the candidate run's tags (its diagnosis among them)


@dataclass(frozen=True)
class ChampionComparison:
    """The champion on today's test rows: its score and MLflow's verdict on the winner against it, or why it
    cannot score them (another schema or task under the same model name); all None when there is no champion."""

    version: str | None = None
    score: float | None = None
    gate_failure: str | None = None  # MLflow's reason when the winner does not pass the gate
    unscorable: str | None = None


def scored_by(task: str, selection: Selection) -> str:
    """The name of the selection metric's test twin in MLflow's evaluation: test_accuracy_score, ..."""
    return EVALUATION_PREFIX + evaluation_metric(task, selection.metric)


def evaluate_winner(tracker: Tracker, run_id: str, winner: Candidate, split: Split,
                    selection: Selection, data_profile: dict | None = None) -> WinnerEvaluation:
    """Log `winner` in the promotion run `run_id` as the served pyfunc (network + preprocessing, and the profile
    of its data) and let MLflow evaluate it on the raw test rows, through the very artifact that will be
    registered."""
    source = tracker.get_run(winner.run_id)
    user_model = user_build_function(source.data.params.get("family", "mlp"))
    network = load_network(winner.model_uri)
    # The served model's input example: from the whole table (a few complete rows), or the first test images.
    raw_example = next(split.test_inputs(rows=5 if split.is_images else len(split.test_frame)))
    serving_uri = log_serving_model(tracker, run_id, network, split.preprocessor, raw_example, user_model,
                                    data_profile)
    predicted = predict_test_rows(load_serving_model(serving_uri), split)
    with tracker.active(run_id):
        log_split_inputs(split, ("test",))
        evaluation = evaluate_predictions(predicted, split.test_truth, split.task, split.preprocessor.classes,
                                          model_id=logged_model_id(serving_uri))
    if split.is_images:
        tracker.log_figure(run_id, sample_images(split.sample_pixels(16), split.test_truth.tolist(),
                                                 predicted["prediction"].tolist()), "evaluation/sample_images.png")
    return WinnerEvaluation(serving_uri, evaluation, float(evaluation.metrics[scored_by(split.task, selection)]),
                            dict(source.data.params), dict(source.data.tags))


def user_build_function(family_name: str) -> str | None:
    """The user's build function a candidate was built with (None for a built-in family), imported first: the
    custom layers it registers must be known before its network loads."""
    if not is_user_function(family_name):
        return None
    family(family_name)
    return family_name


def log_baselines(tracker: Tracker, run_id: str, baselines: BaselineScores) -> None:
    """The baselines' test scores and what they are, on the promotion run."""
    tracker.log_metrics(run_id, {f"{name}_{baselines.metric}": score for name, score in baselines.scores.items()})
    tracker.log_params(run_id, {f"baseline.{name}": model for name, model in baselines.descriptions.items()})


def compare_with_champion(tracker: Tracker, run_id: str, registry: Registry, winner: WinnerEvaluation, split: Split,
                          selection: Selection, gate: Gate) -> ChampionComparison:
    """The champion of `registry` evaluated by MLflow on today's test rows, in a child run of the promotion run
    (its metrics beside the winner's), and MLflow's gate between the two."""
    champion = registry.version_by_alias(CHAMPION)
    if champion is None:
        return ChampionComparison()
    version = str(champion.version)
    try:
        predictions = predict_test_rows(load_serving_model(f"models:/{registry.name}/{version}"), split)
        missing = [c for c in expected_outputs(split) if c not in predictions.columns]
        if missing:  # another task, or other classes: its predictions do not answer today's question
            raise ValueError(f"its predictions lack {missing[:5]}")
    except (DataError, ValueError, KeyError, MlflowException) as error:
        return ChampionComparison(version, unscorable=f"version {version}: {why_unscorable(error)}"[:300])
    with tracker.run("champion-evaluation", parent_id=run_id,
                     tags={"evaluation.of": "champion", "champion.version": version}) as champion_run, \
            tracker.active(champion_run):
        log_split_inputs(split, ("test",))
        evaluation = evaluate_predictions(predictions, split.test_truth, split.task, split.preprocessor.classes,
                                          plots=False)
    return ChampionComparison(version, float(evaluation.metrics[scored_by(split.task, selection)]),
                              gate_failure(winner.evaluation, evaluation, split.task, selection, gate))


def why_unscorable(error: Exception) -> str:
    """The reason in MLflow's schema error, without the data it quotes first (a frame of today's rows, images as
    base64 text), on one line."""
    text = str(error)
    reason = text.rsplit("Error:", 1)[1] if "Failed to enforce schema" in text and "Error:" in text else text
    return " ".join(reason.split())


def register_winner(tracker: Tracker, run_id: str, registry: Registry, winner: Candidate, scored: WinnerEvaluation,
                    selection: Selection, pipeline_run_id: str, baselines: BaselineScores, alias: str, reason: str,
                    card: ModelCard, champion_score: float | None, split: Split,
                    verdict: Verdict = NO_VERDICT) -> str:
    """Register the served pyfunc as a new version with its tags and card, give it `alias` (the move recorded in
    the registry's history), and note both on the promotion run; returns the version. The version names the data
    that made it (the source and the content digest of every row read, training.data.digest) and the night's
    data checks: their status, `needs_review` when held, `schema.changed` when a person accepted a new schema."""
    test_metric = metric_on_test(selection.metric)
    tags = {**version_tags(winner, selection, scored.test_score, pipeline_run_id, scored.candidate_tags,
                           baselines.scores),
            **evaluation_tags(scored.evaluation.metrics, run_id),
            "data.digest": split.data_digest, "data.source": split.source, **validation_tags(verdict, alias)}
    tracker.log_text(run_id, card.markdown(), "model_card.md")
    version, _ = registry.promote(scored.serving_uri, run_id, tags, card.markdown(), alias, reason, details={
        test_metric: scored.test_score, "champion_score": champion_score, "pipeline.run_id": pipeline_run_id})
    return version


def validation_tags(verdict: Verdict, alias: str) -> dict[str, str]:
    tags = {STATUS_TAG: verdict.status} if verdict.status else {}
    if verdict.status == HELD and alias != CHAMPION:
        tags.update({"needs_review": "true", DRIFTED_TAG: verdict.drifted or ""})
    if verdict.schema_accepted:
        tags.update({"schema.changed": "true", "schema.accepted": verdict.schema_accepted})
    return tags


def model_card_of(model_name: str, winner: Candidate, scored: WinnerEvaluation, baselines: BaselineScores,
                  champion: ChampionComparison, selection: Selection, decision: str, data: dict,
                  pipeline_run_id: str, flags: list[str], verdict: Verdict = NO_VERDICT,
                  data_profile: dict | None = None) -> ModelCard:
    """The card's record, from what the promotion's steps found."""
    before = (ChampionBefore(champion.version, champion.score)
              if champion.version is not None and champion.score is not None else None)
    return ModelCard(name=model_name, stage=winner.stage, variant=winner.variant, decision=decision,
                     metric=selection.metric, val_score=winner.score, test_metric=metric_on_test(selection.metric),
                     test_score=scored.test_score, param_count=winner.param_count, spec_params=scored.spec_params,
                     diagnosis=scored.candidate_tags, data=data, pipeline_run_id=pipeline_run_id,
                     candidate_run_id=winner.run_id, champion=before,
                     evaluation=headline_metrics(scored.evaluation.metrics), baselines=baselines.scores,
                     baseline_models=baselines.descriptions, flags=flags, data_checks=check_lines(verdict),
                     profile_lines=profile_summary(data_profile))


def check_lines(verdict: Verdict) -> list[str]:
    """The card's lines on the night's data checks."""
    if verdict.status is None:
        return []
    lines = [f"status: **{verdict.status}** (the validation run of the pipeline run has the report and the drift "
             "picture)"]
    if verdict.drifted:
        lines.append(f"drifted from the champion's data: {verdict.drifted}")
    if verdict.schema_accepted:
        lines.append(f"schema change accepted by a person (--accept-schema-change): {verdict.schema_accepted}")
    return lines


def log_promotion(tracker: Tracker, run_id: str, result: PromotionResult, card: ModelCard) -> None:
    """What the promotion run says of its outcome, and the result a resumed pipeline reuses."""
    tracker.set_tags(run_id, {"registered.version": result.version, "registered.alias": result.alias,
                              "registered.reason": result.reason, "mlflow.note.content": card.markdown()})
    tracker.log_metrics(run_id, {result.test_metric: result.test_score})
    tracker.log_dict(run_id, asdict(result), "promotion/result.json")


def finished_promotion(tracker: Tracker, pipeline_run_id: str, model_name: str) -> PromotionResult | None:
    """What an earlier attempt of this pipeline run promoted: never registered twice. Read from its finished
    promotion run, or, if that attempt died after registering, from the version it registered."""
    if finished := finished_child(tracker, pipeline_run_id, "promotion"):
        return PromotionResult(**tracker.load_json(finished, "promotion/result.json"))
    version = Registry(tracker.client, model_name).version_of_pipeline_run(pipeline_run_id)
    if version is None:
        return None
    return result_from_version(model_name, str(version.version), version.tags, list(version.aliases))
