"""Which candidate to register, whether it may take `champion`, and what its version records. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from training.config import Selection
from training.method.selection import select_winner

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


def choose(candidates: list[Candidate], selection: Selection, fingerprint: str, selected: str | None = None,
           strategy: str = "grid") -> Candidate:
    """Under the adaptive strategy, the run the pipeline selected (its last winner: a higher validation score
    elsewhere, within the noise margin, is not a better model); under the grid strategy, or when that run is not
    among them, the best validation score among candidates of this split; ties go to the smaller model."""
    same_data = [c for c in candidates if c.fingerprint == fingerprint]
    if not same_data:
        raise ValueError(f"no finished candidate was trained on split {fingerprint}; "
                         f"{len(candidates)} candidate(s) on other data")
    if strategy == "adaptive" and (chosen := next((c for c in same_data if c.run_id == selected), None)):
        return chosen
    return select_winner(same_data, selection)


def decide(test_score: float, champion_score: float | None, selection: Selection,
           champion_unscorable: str | None = None, dummy_score: float | None = None,
           gate_failure: str | None = None, held: str | None = None,
           schema_accepted: str | None = None) -> tuple[str, str]:
    """(alias, reason): the first model, and any model that passes the gate against the champion on the same
    test rows (MLflow's `validate_evaluation_results`; `gate_failure` is its reason when it did not pass),
    becomes champion, unless tonight's data drifted (`held`: the drifted columns) and it waits for a person.

    A model no better than the dummy baseline (the best constant) never does: it learnt nothing a constant
    does not know. That is checked first, so such a model leaves even a champion that cannot score today's
    rows in place. A champion that cannot score today's test rows at all (another schema or task under the same
    model name) is replaced only when a person accepted the schema change (`schema_accepted`: what changed):
    otherwise its clients, who send the old schema, would be served a model that refuses their requests.
    """
    if dummy_score is not None and not selection.better(test_score, dummy_score):
        return CHALLENGER, (f"does not beat the dummy baseline on the test split ({test_score:.4f} vs "
                            f"{dummy_score:.4f}): never champion")
    if champion_unscorable and not schema_accepted:
        return CHALLENGER, (f"the champion cannot score this data ({champion_unscorable}); a model of another schema "
                            "replaces it only with --accept-schema-change")
    if champion_unscorable:
        alias, reason = CHAMPION, (f"schema change accepted ({schema_accepted}): the champion cannot score this "
                                   f"data ({champion_unscorable})")
    elif champion_score is None:
        alias, reason = CHAMPION, "first registered model"
    elif gate_failure:
        return CHALLENGER, (f"does not pass the gate against the champion on the test split ({test_score:.4f} vs "
                            f"{champion_score:.4f}): {gate_failure}")
    else:
        alias, reason = CHAMPION, (f"passes the gate against the champion on the test split ({test_score:.4f} vs "
                                   f"{champion_score:.4f})")
        if schema_accepted:
            reason += f"; schema change accepted ({schema_accepted})"
    if held:
        return CHALLENGER, f"held for review: tonight's data drifted ({held}); but for the drift, {alias}: {reason}"
    return alias, reason


# What a version shows of MLflow's evaluation (all of it is on the promotion run): the headline metrics.
HEADLINE_METRICS = ("accuracy_score", "f1_score", "roc_auc", "log_loss", "mean_absolute_error",
                    "root_mean_squared_error", "r2_score")


def headline_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """test_accuracy_score, test_f1_score, ... of an evaluation, those of HEADLINE_METRICS it has, in order."""
    return {f"test_{name}": float(metrics[f"test_{name}"]) for name in HEADLINE_METRICS if f"test_{name}" in metrics}


def evaluation_tags(metrics: dict[str, float], promotion_run_id: str) -> dict[str, object]:
    """The version's link to its evaluation (the promotion run's metrics, plots and evaluation table), and its
    headline metrics as `evaluation.<metric>` tags."""
    return {"evaluation.run_id": promotion_run_id,
            **{f"evaluation.{name}": value for name, value in headline_metrics(metrics).items()}}


@dataclass
class PromotionResult:
    model_name: str
    version: str
    alias: str
    reason: str
    test_metric: str
    test_score: float
    champion_version: str | None  # the champion before this promotion
    champion_score: float | None
    candidate_run_id: str
    stage: str
    variant: str
    baselines: dict[str, float] = field(default_factory=dict)  # baseline name -> its score on test_metric
    flags: list[str] = field(default_factory=list)  # what a person should know, e.g. a simpler model is as good


def metric_on_test(selection_metric: str) -> str:
    """The test split's twin of a validation metric: val_accuracy -> test_accuracy."""
    return "test_" + selection_metric.removeprefix("val_")


def baseline_flags(test_score: float, baselines: dict[str, float], selection: Selection) -> list[str]:
    """The baselines the network does not beat, said plainly (the dummy one also keeps it from `champion`)."""
    return [f"does not beat the {name} baseline on the test split ({test_score:.4f} vs {score:.4f})"
            for name, score in baselines.items() if not selection.better(test_score, score)]


def version_tags(winner: Candidate, selection: Selection, test_score: float, pipeline_run_id: str,
                 candidate_tags: dict[str, str], baselines: dict[str, float] | None = None) -> dict[str, object]:
    """What a registered version says of itself: its scores, the baselines' beside them, lineage, data and the
    winner's diagnosis."""
    test_metric = metric_on_test(selection.metric)
    compared = {f"baseline.{name}.{test_metric}": score for name, score in (baselines or {}).items()}
    compared.update({f"baseline.{name}.beaten": str(selection.better(test_score, score)).lower()
                     for name, score in (baselines or {}).items()})
    return {**compared, selection.metric: winner.score, test_metric: test_score, "stage": winner.stage,
            "variant": winner.variant, "data.fingerprint": winner.fingerprint, "pipeline.run_id": pipeline_run_id,
            "candidate.run_id": winner.run_id, "param_count": winner.param_count,
            "selection.metric": selection.metric, "selection.direction": selection.direction,
            **{k: v for k, v in candidate_tags.items() if k.startswith("diagnosis.")}}


def result_from_version(model_name: str, version: str, tags: dict[str, str], aliases: list[str]) -> PromotionResult:
    """What an earlier attempt promoted, read back from the version it registered (its tags, its alias)."""
    test_metric = metric_on_test(tags.get("selection.metric", "val_score"))
    baselines = {key.split(".")[1]: float(value) for key, value in tags.items()
                 if key.startswith("baseline.") and key.endswith(f".{test_metric}")}
    test_score = float(tags.get(test_metric, "nan"))
    selection = Selection(tags.get("selection.metric", "val_score"), tags.get("selection.direction", "max"))
    return PromotionResult(model_name=model_name, version=version, alias=aliases[0] if aliases else "none",
                           reason="registered by an earlier attempt", test_metric=test_metric,
                           test_score=test_score, champion_version=None,
                           champion_score=None, candidate_run_id=tags.get("candidate.run_id", ""),
                           stage=tags.get("stage", ""), variant=tags.get("variant", ""), baselines=baselines,
                           flags=baseline_flags(test_score, baselines, selection))
