"""The MLflow side of a promotion: the winner becomes a served pyfunc, is scored on the test rows through that
very artifact, and is registered with its card, tags and alias. The decisions are training.method.gate's."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict

import pandas as pd
from mlflow.exceptions import MlflowException

from training.config import Gate, Selection
from training.data.split import Split
from training.data.tables import DataError
from training.method.baselines import DUMMY, score_baselines
from training.method.gate import (
    CHAMPION,
    Candidate,
    PromotionResult,
    baseline_flags,
    decide,
    evaluation_tags,
    headline_metrics,
    metric_on_test,
    result_from_version,
    version_tags,
)
from training.method.scoring import evaluation_metric
from training.model.families import family, is_user_function
from training.report.model_card import model_card
from training.report.plots import sample_images
from training.serving.predict import PROBA_PREFIX
from training.tracking.evaluation import EVALUATION_PREFIX, EvaluationResult, evaluate_predictions, gate_failure
from training.tracking.models import load_network, load_serving_model, log_serving_model, logged_model_id
from training.tracking.queries import finished_child, split_summary
from training.tracking.registry import Registry
from training.tracking.runs import Tracker

NO_MARGIN = Gate()  # better than the champion by any amount
# One promotion of a registered model at a time: the orchestrator's lock, taken by model name.
PromotionLock = Callable[[str], contextlib.AbstractContextManager]


def promote(tracker: Tracker, pipeline_run_id: str, model_name: str, winner: Candidate, split: Split,
            selection: Selection, lock: PromotionLock, seed: int,
            gate: Gate = NO_MARGIN) -> tuple[PromotionResult, str]:
    """Register `winner` in a promotion run under the pipeline run and gate `champion`: MLflow evaluates it and
    the champion on the test rows and validates one against the other with `gate`'s margins, beside the dummy
    and linear baselines fitted on the same split (with `seed`); returns the result and the model card."""
    registry = Registry(tracker.client, model_name)
    test_metric = metric_on_test(selection.metric)
    scored_by = EVALUATION_PREFIX + evaluation_metric(split.task, selection.metric)  # e.g. test_accuracy_score
    # The served model's input example: from the whole table (a few complete rows), or the first test images.
    raw_example = next(split.test_inputs(rows=5 if split.is_images else len(split.test_frame)))
    truth = split.test_truth
    classes = split.preprocessor.classes
    with tracker.run("promotion", parent_id=pipeline_run_id, tags={"stage": "promotion"}) as run_id:
        # Everything that can fail happens before the registry is touched: nothing is half-registered.
        source = tracker.get_run(winner.run_id)
        user_model = user_build_function(source.data.params.get("family", "mlp"))
        network = load_network(winner.model_uri)
        serving_uri = log_serving_model(tracker, run_id, network, split.preprocessor, raw_example, user_model)
        # Evaluated through the very artifact that is registered, on raw rows, like the champion below.
        predicted = predict_test_rows(load_serving_model(serving_uri), split)
        with tracker.active(run_id):
            evaluation = evaluate_predictions(predicted, truth, split.task, classes,
                                              model_id=logged_model_id(serving_uri))
        if split.is_images:
            tracker.log_figure(run_id, sample_images(split.sample_pixels(16), truth.tolist(),
                                                     predicted["prediction"].tolist()), "evaluation/sample_images.png")
        test_score = float(evaluation.metrics[scored_by])
        baselines = score_baselines(split, selection, seed)
        flags = baseline_flags(test_score, baselines.scores, selection)
        tracker.log_metrics(run_id, {f"{name}_{test_metric}": score for name, score in baselines.scores.items()})
        tracker.log_params(run_id, {f"baseline.{name}": model for name, model in baselines.descriptions.items()})
        # Reading the champion, deciding and moving the alias is one step: another pipeline promoting the
        # same model waits here, then compares with whatever is champion by then.
        with lock(model_name):
            champion = registry.version_by_alias(CHAMPION)
            champion_score, unscorable, failure = None, None, None
            if champion is not None:
                champion_evaluation, unscorable = evaluate_champion(tracker, run_id, registry, champion, split,
                                                                    truth)
                if champion_evaluation is not None:
                    champion_score = float(champion_evaluation.metrics[scored_by])
                    failure = gate_failure(evaluation, champion_evaluation, split.task, selection, gate)
            alias, reason = decide(test_score, champion_score, selection, unscorable, baselines.scores[DUMMY],
                                   failure)
            card = model_card(
                name=model_name, stage=winner.stage, variant=winner.variant, spec_params=source.data.params,
                metric=selection.metric, val_score=winner.score, test_metric=test_metric, test_score=test_score,
                param_count=winner.param_count, diagnosis=source.data.tags,
                data=split_summary(tracker, pipeline_run_id), pipeline_run_id=pipeline_run_id,
                candidate_run_id=winner.run_id,
                champion={"version": champion.version, "test_score": champion_score}
                if champion is not None and champion_score is not None else None,
                decision=f"{alias} ({reason})", baselines=baselines.scores,
                baseline_models=baselines.descriptions, flags=flags,
                evaluation=headline_metrics(evaluation.metrics))
            tracker.log_text(run_id, card, "model_card.md")
            version, _ = registry.promote(
                serving_uri, run_id, {**version_tags(winner, selection, test_score, pipeline_run_id,
                                                     source.data.tags, baselines.scores),
                                      **evaluation_tags(evaluation.metrics, run_id)},
                card, alias, reason,
                details={test_metric: test_score, "champion_score": champion_score, "pipeline.run_id": pipeline_run_id})
        result = PromotionResult(model_name=model_name, version=version, alias=alias, reason=reason,
                                 test_metric=test_metric, test_score=test_score,
                                 champion_version=str(champion.version) if champion is not None else None,
                                 champion_score=champion_score, candidate_run_id=winner.run_id, stage=winner.stage,
                                 variant=winner.variant, baselines=baselines.scores, flags=flags)
        tracker.set_tags(run_id, {"registered.version": version, "registered.alias": alias,
                                  "registered.reason": reason, "mlflow.note.content": card})
        tracker.log_metrics(run_id, {test_metric: test_score})
        tracker.log_dict(run_id, asdict(result), "promotion/result.json")  # a resumed pipeline reuses it
    return result, card


def user_build_function(family_name: str) -> str | None:
    """The user's build function a candidate was built with (None for a built-in family), imported first: the
    custom layers it registers must be known before its network loads."""
    if not is_user_function(family_name):
        return None
    family(family_name)
    return family_name


def predict_test_rows(model, split: Split) -> pd.DataFrame:
    """A served model's predictions of the raw test rows, a chunk at a time (images are read from disk)."""
    return pd.concat([model.predict(chunk) for chunk in split.test_inputs()], ignore_index=True)


def evaluate_champion(tracker: Tracker, promotion_run_id: str, registry: Registry, champion, split: Split,
                      truth: pd.Series) -> tuple[EvaluationResult | None, str | None]:
    """MLflow's evaluation of the champion on today's test rows, in a child run of the promotion run (its
    metrics and plots beside the new model's), or why it cannot score them (another schema or task)."""
    try:
        predictions = predict_test_rows(load_serving_model(f"models:/{registry.name}/{champion.version}"), split)
        missing = [c for c in expected_outputs(split) if c not in predictions.columns]
        if missing:  # another task, or other classes: its predictions do not answer today's question
            raise ValueError(f"its predictions lack {missing[:5]}")
    except (DataError, ValueError, KeyError, MlflowException) as error:
        return None, f"version {champion.version}: {why_unscorable(error)}"[:300]
    with tracker.run("champion-evaluation", parent_id=promotion_run_id,
                     tags={"evaluation.of": "champion", "champion.version": str(champion.version)}) as run_id, \
            tracker.active(run_id):
        return evaluate_predictions(predictions, truth, split.task, split.preprocessor.classes, plots=False), None


def why_unscorable(error: Exception) -> str:
    """The reason in MLflow's schema error, without the data it quotes first (a frame of today's rows, images as
    base64 text), on one line."""
    text = str(error)
    reason = text.rsplit("Error:", 1)[1] if "Failed to enforce schema" in text and "Error:" in text else text
    return " ".join(reason.split())


def expected_outputs(split: Split) -> list[str]:
    """The columns a model of today's task and classes answers with: `prediction`, and `proba_<class>` each."""
    return ["prediction", *(f"{PROBA_PREFIX}{c}" for c in split.preprocessor.classes)]


def finished_promotion(tracker: Tracker, pipeline_run_id: str, model_name: str) -> PromotionResult | None:
    """What an earlier attempt of this pipeline run promoted: never registered twice. Read from its finished
    promotion run, or, if that attempt died after registering, from the version it registered."""
    if finished := finished_child(tracker, pipeline_run_id, "promotion"):
        return PromotionResult(**tracker.load_json(finished, "promotion/result.json"))
    version = Registry(tracker.client, model_name).version_of_pipeline_run(pipeline_run_id)
    if version is None:
        return None
    return result_from_version(model_name, str(version.version), version.tags, list(version.aliases))
