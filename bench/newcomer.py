"""Measurements 1 and 7 from one run: the newcomer's `make run` (standard profile, default data) as a fresh
process against a throwaway store: wall time, the champion's test accuracy, and the pipeline's overhead =
wall time / time spent inside model.fit (every candidate and every tuner trial, as each run logged it).
`make bench` takes these from the product run of bench/handwritten.py instead of running it twice.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from bench.common import record, table


def run_product(tracking_uri: str, profile: str = "standard") -> dict:
    """`python -m flows run` in a fresh process, then what its runs recorded."""
    from mlflow import MlflowClient

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows", "run", "--profile", profile, "--tracking-uri",
                           tracking_uri], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("keras-mlops").experiment_id], max_results=5000)
    pipeline = next(r for r in runs if r.data.tags.get("stage") == "pipeline")
    champion = client.get_model_version_by_alias("keras-mlops-model", "champion")
    return {
        "profile": profile, "seconds": wall,
        "pipeline_seconds": (pipeline.info.end_time - pipeline.info.start_time) / 1000,
        "fit_seconds": sum(r.data.metrics.get("fit_seconds", 0.0) for r in runs),
        "candidates": sum(r.data.tags.get("kind") == "candidate" for r in runs),
        "trials": sum("fit_seconds" in r.data.metrics and r.data.tags.get("kind") != "candidate" for r in runs),
        "epochs": sum(int(r.data.metrics.get("epochs_run", 0)) for r in runs),
        "stages": {r.data.tags.get("stage"): (r.info.end_time - r.info.start_time) / 1000 for r in runs
                   if r.data.tags.get("mlflow.parentRunId") == pipeline.info.run_id},
        "test_accuracy": float(champion.tags["test_accuracy"]),
    }


def record_newcomer(m: dict, command: str = "") -> None:
    wall, fit = m["seconds"], m["fit_seconds"]
    body = (
        f"`python -m flows run --profile {m['profile']}` in a fresh process (what `make run` runs once "
        f"installed), default data (digits).{command}\n\n"
        + table([{"measure": "process wall s (startup included)", "value": round(wall, 1)},
                 {"measure": "pipeline run s (MLflow start to end)", "value": round(m["pipeline_seconds"], 1)},
                 {"measure": "inside model.fit s (candidates + trials)", "value": round(fit, 1)},
                 {"measure": "candidates / tuner trials", "value": f"{m['candidates']} / {m['trials']}"},
                 {"measure": "epochs trained", "value": m["epochs"]},
                 {"measure": "champion test_accuracy", "value": round(m["test_accuracy"], 4)}])
        + "\n\nTime per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in m["stages"].items()) + "\n\n"
        + f"**Overhead** (measurement 1) = process wall / time in fit = {wall / fit:.2f} "
          f"(pipeline run alone: {m['pipeline_seconds'] / fit:.2f}); target <= 1.15.  \n"
        + f"**Newcomer's run** (measurement 7): {wall / 60:.1f} min, champion test accuracy "
          f"{m['test_accuracy']:.4f}; target under 5 min with at least 0.98.\n")
    record("newcomer", "1 and 7. Pipeline overhead and the newcomer's run", body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="standard")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        record_newcomer(run_product(f"sqlite:///{folder}/mlflow.db", args.profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
