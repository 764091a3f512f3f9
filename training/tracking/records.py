"""What each level of the run tree records: the split, a fitted network, a search, a stage's comparison."""

from __future__ import annotations

import numpy as np

from training.config import PipelineConfig, Selection
from training.data.split import Split
from training.method.fit import FitResult
from training.method.selection import StageResult, comparison_table, pipeline_story, stage_result_to_dict, verdict
from training.report import plots
from training.tracking.datasets import log_split_inputs
from training.tracking.models import log_keras_model
from training.tracking.runs import Tracker


def log_pipeline_start(tracker: Tracker, run_id: str, config: PipelineConfig, libraries: dict[str, str]) -> None:
    """The config as params, the library versions, and the exact config, so that a stage (promotion, a resume)
    can rebuild the same split later."""
    tracker.log_params(run_id, config.recorded())
    tracker.log_dict(run_id, libraries, "versions.json")
    tracker.log_dict(run_id, config.recorded(mode="json"), "config.json")


def log_no_change(tracker: Tracker, run_id: str, same_as: str) -> None:
    tracker.set_tags(run_id, {"outcome": "no change", "outcome.same_as": same_as})


def log_resumed_by(tracker: Tracker, run_id: str, flow_run_id: str) -> None:
    """The Prefect flow run now working on a resumed pipeline run (a retry, or `run --resume`)."""
    tracker.set_tags(run_id, {"prefect.flow_run_id": flow_run_id})


def log_stage_bests(tracker: Tracker, run_id: str, stages: list[StageResult]) -> None:
    """Each stage's best score, the last stage's winner (what an adaptive run promotes) and the path that led to
    it, on the pipeline run (before promotion, so a failed promotion keeps them)."""
    tracker.log_metrics(run_id, {f"{s.stage}_best_{s.metric}": s.winner.score for s in stages})
    tracker.set_tags(run_id, {"selected.run_id": stages[-1].winner.run_id})
    if path := pipeline_story(stages):  # the adaptive path of every stage, in words
        tracker.set_tags(run_id, {"story": path, "mlflow.note.content": path})

def log_pipeline_outcome(tracker: Tracker, run_id: str, stages: list[StageResult]) -> None:
    """Which stage and variant the pipeline ends with: it trained, and its promotion is done."""
    last = stages[-1]
    tracker.set_tags(run_id, {"outcome": "trained", "winner.stage": last.stage, "winner.variant": last.winner.name,
                              "winner.run_id": last.winner.run_id})


def log_split(tracker: Tracker, run_id: str, split: Split, target: str, pipeline_run_id: str | None = None,
              profile: dict | None = None) -> None:
    """Row counts, class balance, fingerprint, imputation counts, the data's source and content digest, the three
    splits as MLflow datasets, the preprocessing, the data's profile (training.checks.profile); the pipeline run
    is tagged with the fingerprint and the digest (what a later night compares)."""
    tracker.log_params(run_id, {"dataset": split.dataset_name, "source": split.source, "task": split.task,
                                "target": target, "n_features": int(np.prod(split.input_shape)),
                                "input_shape": "x".join(str(d) for d in split.input_shape),
                                "n_classes": split.n_classes, "fingerprint": split.fingerprint})
    metrics = {f"rows_{name}": n for name, n in split.rows.items()}
    metrics["rows_dropped_missing_target"] = split.dropped_missing_target
    for name, counts in split.imputed.items():
        metrics[f"imputed_values_{name}"] = sum(counts.values())
    tracker.log_metrics(run_id, metrics)
    data_tags = {"data.fingerprint": split.fingerprint, "data.digest": split.data_digest, "data.source": split.source}
    tracker.set_tags(run_id, data_tags)
    tracker.log_dict(run_id, {"rows": split.rows, "class_balance": split.class_balance(), "imputed": split.imputed,
                              "dropped_missing_target": split.dropped_missing_target,
                              "feature_names": split.preprocessor.feature_names, "data_digest": split.data_digest,
                              "split_digests": split.split_digests}, "split/summary.json")
    tracker.log_dict(run_id, split.preprocessor.to_dict(), "preprocessing/preprocessor.json")
    if profile is not None:
        tracker.log_dict(run_id, profile, "data_profile.json")
    with tracker.active(run_id):
        log_split_inputs(split, ("training", "validation", "test"))
    if pipeline_run_id:
        tracker.set_tags(pipeline_run_id, data_tags)


def log_fit(tracker: Tracker, run_id: str, result: FitResult, selection: Selection) -> None:
    """What every fitted network records (candidate or tuner trial): its scores, size and diagnosis
    (its per-epoch curves came through the epoch logger)."""
    tracker.log_metrics(run_id, {**{f"model_{k}": v for k, v in result.val_scores.items()},
                                 "fit_seconds": result.fit_seconds, "epochs_run": result.epochs_run,
                                 "param_count": result.param_count,
                                 f"best_{selection.metric}": result.diagnosis.best_score})
    tracker.set_tags(run_id, result.diagnosis.tags())


def log_candidate(tracker: Tracker, run_id: str, result: FitResult, split: Split, selection: Selection,
                  title: str) -> str:
    """A stage's candidate records more, to be compared and promoted: where the best epoch was, the gap, the
    data and metric it was judged on, its learning curves and its model; returns the model URI."""
    log_fit(tracker, run_id, result, selection)
    diagnosis = result.diagnosis
    tracker.log_metrics(run_id, {"best_epoch": diagnosis.best_epoch, "generalization_gap": diagnosis.gap})
    tracker.set_tags(run_id, {"data.fingerprint": split.fingerprint, "selection.metric": selection.metric,
                              "selection.direction": selection.direction})
    tracker.log_figure(run_id, plots.learning_curves(result.history, selection.metric, title, diagnosis.best_epoch),
                       "plots/learning_curves.png")
    model_uri = log_keras_model(result.model, split.preprocessor)
    tracker.set_tags(run_id, {"model.uri": model_uri})
    return model_uri


def log_search(tracker: Tracker, run_id: str, summary, selection: Selection, tuner: str, scale: float = 1.0) -> None:
    """The search summary (a tuning.tuner.SearchSummary) on the tuning stage run: trials, epochs spent,
    best hyperparameters, score per trial, and the share of the profile's budget it was given."""
    tracker.log_params(run_id, {"search_scale": scale})
    tracker.log_metrics(run_id, {"trials": summary.trials, "trial_epochs": summary.epochs,
                                 f"best_trial_{selection.metric}": summary.best_score})
    tracker.log_dict(run_id, {"tuner": tuner, "trials": summary.trials, "epochs": summary.epochs,
                              "best_hyperparameters": summary.best_values, "best_score": summary.best_score,
                              "scores": summary.scores}, "search/summary.json")
    tracker.log_figure(run_id, plots.score_per_trial(summary.scores, selection.metric, selection.direction,
                                                     f"{tuner} search"), "plots/score_per_trial.png")


def log_stage_start(tracker: Tracker, run_id: str, strategy: str, reference: str | None,
                    selection: Selection) -> None:
    tracker.log_params(run_id, {"strategy": strategy, "reference": reference or "", "metric": selection.metric,
                                "direction": selection.direction})


def log_stage(tracker: Tracker, run_id: str, result: StageResult, selection: Selection) -> None:
    """The stage's comparison table, its overlaid validation curves, and which variant won and why."""
    winner = result.winner
    trained = [c for c in result.candidates if c.name not in result.reused]
    tracker.log_metrics(run_id, {f"best_{selection.metric}": winner.score, "candidates": len(trained),
                                 "epochs_trained": sum(c.epochs_run for c in trained), "stage_seconds": result.seconds,
                                 **({"noise_margin": result.margin} if result.margin is not None else {})})
    tracker.set_tags(run_id, {"winner": winner.name, "winner.run_id": winner.run_id,
                              "winner.model_uri": winner.model_uri, "winner.regime": winner.diagnosis.regime,
                              "candidates": ", ".join(c.name for c in result.candidates),
                              "verdict": verdict(result), "mlflow.note.content": verdict(result)})
    for candidate in trained:  # why each step was kept or not, on the step's own run
        if candidate.name in result.decisions:
            tracker.set_tags(candidate.run_id, {"decision": result.decisions[candidate.name]})
    tracker.log_table(run_id, comparison_table(result.candidates, selection, winner.name, result.decisions,
                                               result.reused), "comparison")
    tracker.log_dict(run_id, stage_result_to_dict(result), "stage/result.json")  # reused by a resume
    tracker.log_figure(run_id, plots.overlaid_validation_curves(
        {c.name: c.history for c in result.candidates}, selection.metric, f"{result.stage}: validation"),
        "plots/validation_curves.png")
