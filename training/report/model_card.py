"""The model card of a registered version, in Markdown, from one typed record. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChampionBefore:
    """The champion a new version was compared with, on the same test rows."""

    version: str
    test_score: float


@dataclass(frozen=True)
class ModelCard:
    """What a registered version says of itself: what it is, how it scored beside its baselines and the champion,
    the data it was made from, its network and diagnosis, and where it came from."""

    name: str  # the registered model
    stage: str
    variant: str
    decision: str  # "champion (first registered model)"
    metric: str  # the selection metric, e.g. val_accuracy
    val_score: float
    test_metric: str  # its test twin, e.g. test_accuracy
    test_score: float
    param_count: int
    spec_params: dict[str, str]  # the candidate run's params: every field of its spec
    diagnosis: dict[str, str]  # the candidate run's `diagnosis.*` tags
    data: dict  # what the split recorded: dataset, source, task, fingerprint, rows, class balance
    pipeline_run_id: str
    candidate_run_id: str
    champion: ChampionBefore | None = None
    evaluation: dict[str, float] = field(default_factory=dict)  # MLflow's headline test metrics
    baselines: dict[str, float] = field(default_factory=dict)  # baseline name -> its test score
    baseline_models: dict[str, str] = field(default_factory=dict)  # baseline name -> what it is
    flags: list[str] = field(default_factory=list)
    # The night's data checks (training.checks.validation): status, what it was compared with and what moved;
    # and the summary of the data profile the version keeps.
    data_checks: list[str] = field(default_factory=list)
    profile_lines: str = ""

    def markdown(self) -> str:
        return model_card(self)


def model_card(card: ModelCard) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(card.spec_params.items()))
    balance = card.data.get("class_balance") or {}
    balance_text = "\n".join(f"- {split}: {counts}" for split, counts in balance.items()) or "- (regression)"
    if card.champion:
        comparison = (f"It was compared with the champion, version {card.champion.version}, on the same test rows: "
                      f"{card.test_metric} {card.test_score:.4f} against {card.champion.test_score:.4f}.")
    else:
        comparison = "There was no champion before it."
    baseline_rows = "\n".join(f"| {name}: {card.baseline_models.get(name, '')} | {score:.4f} |"
                              for name, score in card.baselines.items())
    flag_text = "".join(f"\n\n**Flag:** {flag}." for flag in card.flags)
    evaluation_rows = "\n".join(f"| {name} | {value:.4f} |" for name, value in card.evaluation.items())
    data, diagnosis = card.data, card.diagnosis
    checks_text = "\n".join(f"- {line}" for line in card.data_checks) or "- (no validation stage ran)"
    return f"""# {card.name}: {card.stage}/{card.variant}

**Decision:** {card.decision}. {comparison}

## Scores
| split | metric | value |
| --- | --- | --- |
| validation (selection) | {card.metric} | {card.val_score:.4f} |
| test (once, after selection) | {card.test_metric} | {card.test_score:.4f} |

## Evaluation on the test split
By `mlflow.models.evaluate`; every metric, the plots (confusion matrix, ROC and precision-recall curves, or
residuals) and the evaluation table are on the promotion run.

| metric | value |
| --- | --- |
{evaluation_rows}

## Baselines
Fitted on the same train rows, scored on the same test rows: is the network worth having?

| model | {card.test_metric} |
| --- | --- |
| this network | {card.test_score:.4f} |
{baseline_rows}{flag_text}

## Data
- data set: {data.get('dataset')} ({data.get('source')}), task {data.get('task')}
- content digest of every row read (sha256): `{data.get('data_digest')}`
- fingerprint of the split: `{data.get('fingerprint')}`
- rows: {data.get('rows')}
- class balance:
{balance_text}

Its profile (`data_profile.json` among the version's artifacts: what the next night's data is compared with):
{card.profile_lines or "- (none recorded)"}

## Data checks
{checks_text}

## Network and training
{card.param_count:,} parameters. Spec:

| field | value |
| --- | --- |
{rows}

## Fit diagnosis
- regime: **{diagnosis.get('diagnosis.regime')}**, best epoch {diagnosis.get('diagnosis.best_epoch')}
- {diagnosis.get('diagnosis.advice')}

Learning curves: `plots/learning_curves.png` of candidate run `{card.candidate_run_id}`.

## Lineage
- pipeline run: `{card.pipeline_run_id}`
- candidate run: `{card.candidate_run_id}` (stage `{card.stage}`, variant `{card.variant}`)
"""
