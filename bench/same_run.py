"""Do two pipeline runs hold the same results? Compares their run trees: the same runs (by stage and variant),
the same params, tags and metrics, every step of every curve, to the last digit.

What honestly differs between two runs is left out: ids, times, durations, paths, the code's own version.
Used to show that a refactoring kept behaviour: run the same deterministic quick pipeline before and after
into two stores, then

    .venv/bin/python bench/same_run.py sqlite:///BEFORE/mlflow.db sqlite:///AFTER/mlflow.db --experiment NAME

It prints what differs and exits 1, or prints how much it compared and exits 0.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys

from mlflow import MlflowClient

# Differ between any two runs, whatever the code does.
VOLATILE_METRICS = {"fit_seconds", "stage_seconds"}
VOLATILE_PARAMS = {"tracking_uri"}
VOLATILE_TAG_PARTS = ("run_id", "uri", "owner.", "mlflow.", "prefect.", "code.version", "git.commit",
                      "registered.", "model_id")


def run_tree(client: MlflowClient, experiment: str) -> dict:
    """The latest pipeline run of `experiment` with every run below it, keyed by stage/variant path."""
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([experiment_id], max_results=5000)
    pipelines = sorted((r for r in runs if r.data.tags.get("stage") == "pipeline"), key=lambda r: r.info.start_time)
    children: dict[str, list] = {}
    for run in runs:
        children.setdefault(run.data.tags.get("mlflow.parentRunId"), []).append(run)

    tree = {}

    def visit(run, path: str) -> None:
        tree[path] = describe(client, run)
        for child in sorted(children.get(run.info.run_id, []), key=lambda r: r.info.start_time):
            tags = child.data.tags
            visit(child, f"{path}/{tags.get('stage')}:{tags.get('variant', child.info.run_name)}")

    visit(pipelines[-1], "pipeline")
    return tree


def describe(client: MlflowClient, run) -> dict:
    metrics = {}
    for key in sorted(set(run.data.metrics) - VOLATILE_METRICS):
        history = client.get_metric_history(run.info.run_id, key)
        metrics[key] = [(m.step, repr(m.value)) for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
    return {
        "status": run.info.status,
        "params": {k: v for k, v in sorted(run.data.params.items()) if k not in VOLATILE_PARAMS},
        "tags": {k: v for k, v in sorted(run.data.tags.items()) if not any(p in k for p in VOLATILE_TAG_PARTS)},
        "metrics": metrics,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="tracking URI of the first store")
    parser.add_argument("after", help="tracking URI of the second store")
    parser.add_argument("--experiment", default="keras-mlops")
    args = parser.parse_args(argv)
    trees = [run_tree(MlflowClient(uri), args.experiment) for uri in (args.before, args.after)]
    texts = [json.dumps(tree, indent=1, sort_keys=True).splitlines() for tree in trees]
    diff = list(difflib.unified_diff(*texts, "before", "after", lineterm="", n=2))
    if diff:
        print("\n".join(diff))
        return 1
    values = sum(len(h) for run in trees[0].values() for h in run["metrics"].values())
    params = sum(len(run["params"]) for run in trees[0].values())
    print(f"same: {len(trees[0])} runs, {params} params, {values} metric values (every step), identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
