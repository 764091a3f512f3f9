"""Do two pipeline runs hold the same results? Compares their run trees: the same runs (by stage and variant),
the same params, tags and metrics, every step of every curve, to the last digit.

What honestly differs between two runs is left out: times, durations, paths, the code's own version; run
and model ids are masked where a kept value holds one. The versions the run registered are compared too.
Used to show that a refactoring kept behaviour: run the same deterministic quick pipeline before and after
into two stores, then

    .venv/bin/python bench/same_run.py sqlite:///BEFORE/mlflow.db sqlite:///AFTER/mlflow.db --experiment NAME

It prints what differs and exits 1, or prints how much it compared and exits 0.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys

from mlflow import MlflowClient

# Differ between any two runs, whatever the code does; ids inside the values that are kept are masked.
VOLATILE_METRICS = {"fit_seconds", "stage_seconds"}
VOLATILE_PARAMS = {"tracking_uri"}
VOLATILE_TAGS = ("owner.", "prefect.", "code.version", "git.commit", "closed.")
KEPT_MLFLOW_TAGS = {"mlflow.note.content"}  # the stage verdicts and the model card
IDS = re.compile(r"\b(m-)?[0-9a-f]{32}\b")


def mask(value: str) -> str:
    return IDS.sub(lambda m: "<model id>" if m.group(1) else "<run id>", value)


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
    tree["registry"] = registered_versions(client, pipelines[-1].info.run_id)
    return tree


def describe(client: MlflowClient, run) -> dict:
    metrics = {}
    for key in sorted(set(run.data.metrics) - VOLATILE_METRICS):
        history = client.get_metric_history(run.info.run_id, key)
        metrics[key] = [(m.step, repr(m.value)) for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
    return {
        "status": run.info.status,
        "params": {k: v for k, v in sorted(run.data.params.items()) if k not in VOLATILE_PARAMS},
        "tags": {k: mask(v) for k, v in sorted(run.data.tags.items()) if kept_tag(k)},
        "metrics": metrics,
    }


def kept_tag(key: str) -> bool:
    if key.startswith("mlflow."):
        return key in KEPT_MLFLOW_TAGS
    return not key.startswith(VOLATILE_TAGS)


def registered_versions(client: MlflowClient, pipeline_run_id: str) -> list[dict]:
    """The model versions a pipeline run registered: their tags, aliases and model card."""
    versions = client.search_model_versions(f"tags.`pipeline.run_id` = '{pipeline_run_id}'")
    return [{"name": v.name, "version": v.version, "aliases": sorted(v.aliases),
             "tags": {k: mask(t) for k, t in sorted(v.tags.items())}, "description": mask(v.description or "")}
            for v in sorted(versions, key=lambda v: (v.name, int(v.version)))]


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
    runs = [run for path, run in trees[0].items() if path != "registry"]
    values = sum(len(h) for run in runs for h in run["metrics"].values())
    params, tags = sum(len(run["params"]) for run in runs), sum(len(run["tags"]) for run in runs)
    print(f"same: {len(runs)} runs, {params} params, {tags} tags, {values} metric values (every step), "
          f"{len(trees[0]['registry'])} registered version(s) with their tags and card: identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
