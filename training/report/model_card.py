"""The model card of a registered version, in Markdown. Pure."""

from __future__ import annotations


def model_card(*, name: str, stage: str, variant: str, spec_params: dict[str, str], metric: str, val_score: float,
               test_metric: str, test_score: float, param_count: int, diagnosis: dict[str, str], data: dict,
               pipeline_run_id: str, candidate_run_id: str, champion: dict | None, decision: str,
               baselines: dict[str, float] | None = None, baseline_models: dict[str, str] | None = None,
               flags: list[str] | None = None, evaluation: dict[str, float] | None = None) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(spec_params.items()))
    balance = data.get("class_balance") or {}
    balance_text = "\n".join(f"- {split}: {counts}" for split, counts in balance.items()) or "- (regression)"
    if champion:
        comparison = (f"It was compared with the champion, version {champion['version']}, on the same test rows: "
                      f"{test_metric} {test_score:.4f} against {champion['test_score']:.4f}.")
    else:
        comparison = "There was no champion before it."
    baseline_rows = "\n".join(f"| {name}: {(baseline_models or {}).get(name, '')} | {score:.4f} |"
                               for name, score in (baselines or {}).items())
    flag_text = "".join(f"\n\n**Flag:** {flag}." for flag in flags or [])
    evaluation_rows = "\n".join(f"| {name} | {value:.4f} |" for name, value in (evaluation or {}).items())
    return f"""# {name}: {stage}/{variant}

**Decision:** {decision}. {comparison}

## Scores
| split | metric | value |
| --- | --- | --- |
| validation (selection) | {metric} | {val_score:.4f} |
| test (once, after selection) | {test_metric} | {test_score:.4f} |

## Evaluation on the test split
By `mlflow.models.evaluate`; every metric, the plots (confusion matrix, ROC and precision-recall curves, or
residuals) and the evaluation table are on the promotion run.

| metric | value |
| --- | --- |
{evaluation_rows}

## Baselines
Fitted on the same train rows, scored on the same test rows: is the network worth having?

| model | {test_metric} |
| --- | --- |
| this network | {test_score:.4f} |
{baseline_rows}{flag_text}

## Data
- data set: {data.get('dataset')} ({data.get('source')}), task {data.get('task')}
- fingerprint of the split: `{data.get('fingerprint')}`
- rows: {data.get('rows')}
- class balance:
{balance_text}

## Network and training
{param_count:,} parameters. Spec:

| field | value |
| --- | --- |
{rows}

## Fit diagnosis
- regime: **{diagnosis.get('diagnosis.regime')}**, best epoch {diagnosis.get('diagnosis.best_epoch')}
- {diagnosis.get('diagnosis.advice')}

Learning curves: `plots/learning_curves.png` of candidate run `{candidate_run_id}`.

## Lineage
- pipeline run: `{pipeline_run_id}`
- candidate run: `{candidate_run_id}` (stage `{stage}`, variant `{variant}`)
"""
