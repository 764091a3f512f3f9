"""Measurement 5: Hyperband against RandomSearch at the same number of configurations (the standard budget,
default data, the standard spec as the incoming winner): total epochs trained, wall time, best validation score.

Both go through the product's tuning path (tuning.tuner.run_search, every trial an MLflow child run in a
throwaway store), so the comparison is of the algorithms, not of two code paths.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import record, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-epochs", type=int, default=20, help="Hyperband's max epochs per model (standard: 20)")
    args = parser.parse_args(argv)
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.grids import baseline_spec
    from training.tracking.runs import Tracker
    from tuning.tuner import BUDGETS, run_search

    config = PipelineConfig()
    split = make_split(load_dataset("digits"), config.fractions, config.seed)
    selection = config.selection(split.task)
    base = replace(baseline_spec(config), epochs=args.max_epochs)
    budget = replace(BUDGETS["standard"], max_epochs=args.max_epochs)
    rows, outcome = [], {}
    with tempfile.TemporaryDirectory() as folder:
        tracker = Tracker(f"sqlite:///{folder}/mlflow.db", "bench-search")
        for kind in ("hyperband", "random"):
            if kind == "random":  # as many configurations as Hyperband tried, each for the full max epochs
                budget = replace(budget, max_trials=outcome["hyperband"]["configurations"])
            with tracker.run(kind) as stage_run_id:
                started = time.perf_counter()
                summary = run_search(kind, base, split, selection, budget, Path(folder) / kind, tracker,
                                     stage_run_id, config.seed)
                seconds = time.perf_counter() - started
            configurations = len({tuple(sorted((k, v) for k, v in _values(tracker, t).items()))
                                  for t in tracker.child_runs(stage_run_id)})
            outcome[kind] = {"configurations": configurations, "trials": summary.trials, "epochs": summary.epochs,
                             "seconds": seconds, "best": summary.best_score}
            rows.append({"tuner": kind, "configurations": configurations, "trials": summary.trials,
                         "epochs trained": summary.epochs, "wall s": round(seconds, 1),
                         f"best {selection.metric}": summary.best_score})
            print(rows[-1], flush=True)
    hb, rs = outcome["hyperband"], outcome["random"]
    behind = (rs["best"] - hb["best"]) * 100  # points Hyperband's best is below Random's (negative: above)
    epochs_ok, score_ok = hb["epochs"] * 3 <= rs["epochs"], behind <= 0.5
    body = (f"Standard spec as the incoming winner, max {args.max_epochs} epochs per model, factor "
            f"{budget.factor}, seed {config.seed}; Random trains as many configurations as Hyperband tried, each "
            f"for the max epochs.\n\n{table(rows)}\n\n"
            f"Hyperband used {hb['epochs'] / rs['epochs']:.2f} of Random's epochs and "
            f"{hb['seconds'] / rs['seconds']:.2f} of its wall time; its best score is {-behind:+.2f} points "
            f"against Random's. Target (within 0.5 points with a third of the epochs or fewer): score "
            f"{'met' if score_ok else 'not met'}, epochs {'met' if epochs_ok else 'not met'}. Wall time follows "
            "trials more than epochs: each trial costs a model build, an MLflow run and Keras Tuner's checkpoint "
            "besides its epochs.\n")
    record("search", "5. Search efficiency: Hyperband vs RandomSearch", body)
    return 0


def _values(tracker, run) -> dict:
    """A trial's hyperparameters without Hyperband's bookkeeping (a continued configuration is the same one)."""
    return {k: v for k, v in run.data.params.items() if not k.startswith("tuner/") and k not in ("epochs",)}


if __name__ == "__main__":
    raise SystemExit(main())
