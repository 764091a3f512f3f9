"""The adaptive strategy against the grid, side by side in one run: on each bundled set, the whole pipeline once
per strategy (same seed, same profile, each a fresh `python -m flows run` process into a store of its own), then
the champion's test score, the epochs trained (every candidate and tuner trial, as each run logged it) and the
wall time.

Target (issue 17): on every set a champion at least as good as the grid's (within 0.5 points of accuracy, or
within 2% of test MSE) with at most 0.6x the grid's epochs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record, table

DATASETS = ("digits", "wine", "breast_cancer", "diabetes")
STRATEGIES = ("grid", "adaptive")
ACCURACY_SLACK, MSE_SLACK, EPOCHS_TARGET = 0.005, 0.02, 0.6


def run_pipeline(data: str, strategy: str, profile: str, seed: int, folder: Path, extra: tuple[str, ...] = (),
                 label: str | None = None) -> dict:
    """One pipeline in a fresh process (with `extra` flags; `label` names its store), then what its runs and its
    registered champion recorded."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / f'{data}-{label or strategy}.db'}"
    command = [sys.executable, "-m", "flows", "run", "--data", data, "--profile", profile, "--strategy", strategy,
               "--seed", str(seed), "--tracking-uri", uri, "--experiment", "bench-strategy", "--model-name",
               f"bench-{data}", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("bench-strategy").experiment_id], max_results=5000)
    champion = client.get_model_version_by_alias(f"bench-{data}", "champion")
    metric = next(k for k in ("test_accuracy", "test_loss") if k in champion.tags)
    pipeline = next(r for r in runs if r.data.tags.get("stage") == "pipeline")
    train_rows = next(r for r in runs if r.data.tags.get("stage") == "split").data.metrics["rows_train"]
    fits = [r.data.metrics for r in runs if "epochs_run" in r.data.metrics and "fit_seconds" in r.data.metrics]
    return {
        "data": data, "strategy": strategy, "metric": metric, "test": float(champion.tags[metric]),
        "epochs": sum(int(r.data.metrics.get("epochs_run", 0)) for r in runs),
        "trainings": sum("epochs_run" in r.data.metrics for r in runs),
        "seconds": wall, "winner": f"{champion.tags.get('stage')}/{champion.tags.get('variant')}",
        "story": pipeline.data.tags.get("story", ""),
        # Training throughput over every fit: rows seen (epochs x train rows) per second inside model.fit.
        "samples_per_s": sum(m["epochs_run"] * train_rows for m in fits) / max(sum(m["fit_seconds"] for m in fits),
                                                                               1e-9),
    }


def verdict(grid: dict, adaptive: dict) -> tuple[str, str]:
    """(score verdict, epochs verdict) of one data set against the targets."""
    if grid["metric"] == "test_accuracy":
        delta = adaptive["test"] - grid["test"]
        score_ok = delta >= -ACCURACY_SLACK
        score = f"{delta * 100:+.2f} pts ({'met' if score_ok else 'not met'})"
    else:
        ratio = adaptive["test"] / grid["test"]
        score_ok = ratio <= 1 + MSE_SLACK
        score = f"{(ratio - 1) * 100:+.1f}% MSE ({'met' if score_ok else 'not met'})"
    epochs = adaptive["epochs"] / grid["epochs"]
    return score, f"{epochs:.2f}x ({'met' if epochs <= EPOCHS_TARGET else 'not met'})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args(argv)
    rows, stories = [], []
    with tempfile.TemporaryDirectory(prefix="bench-strategy-") as folder:
        for data in args.datasets:
            measured = {}
            for strategy in STRATEGIES:
                measured[strategy] = run_pipeline(data, strategy, args.profile, args.seed, Path(folder))
                m = measured[strategy]
                print(f"{data} {strategy}: {m['metric']} {m['test']:.4f}, {m['epochs']} epochs, "
                      f"{m['seconds']:.0f}s", flush=True)
            grid, adaptive = measured["grid"], measured["adaptive"]
            score, epochs = verdict(grid, adaptive)
            rows.append({"data": data, "metric": grid["metric"], "grid": round(grid["test"], 4),
                         "adaptive": round(adaptive["test"], 4), "adaptive vs grid": score,
                         "epochs grid": grid["epochs"], "epochs adaptive": adaptive["epochs"],
                         "epochs ratio": epochs, "trainings grid / adaptive":
                             f"{grid['trainings']} / {adaptive['trainings']}",
                         "wall s grid / adaptive": f"{grid['seconds']:.0f} / {adaptive['seconds']:.0f}",
                         "champion grid / adaptive": f"{grid['winner']} / {adaptive['winner']}"})
            stories.append(f"**{data}** (adaptive):\n\n" + "\n".join(f"- {line}" for line in
                                                                     adaptive["story"].splitlines()))
    body = (f"`python -m flows run --data D --profile {args.profile} --seed {args.seed} --strategy S`, each in a "
            "fresh process and a store of its own, grid then adaptive per data set. Test score of the registered "
            "champion (accuracy, or MSE in the target's units for diabetes); epochs summed over every candidate "
            "and tuner trial; a training is one candidate or trial run.\n\n"
            + table(rows)
            + f"\n\nTargets: champion within {ACCURACY_SLACK * 100:g} points of accuracy or {MSE_SLACK:.0%} of MSE "
              f"of the grid's, with at most {EPOCHS_TARGET}x its epochs.\n\nThe adaptive path, per stage, as the "
              "pipeline run's `story` tag records it:\n\n" + "\n\n".join(stories))
    record("strategy", "Adaptive against grid (issue 17)", body)


if __name__ == "__main__":
    main()
