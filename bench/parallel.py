"""Measurement 6: a stage's candidates with max_parallel 1 against 2 on this machine: speedup, and whether
the winner and the scores stay the same.

Each setting runs in its own process, because TensorFlow's thread pools are sized (shared between the
parallel candidates) before its runtime starts. The stage is the standard capacity sweep on the default data,
run as the product runs it (the capacity-stage flow, a throwaway tracking store).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

from bench.common import record, table


def one(max_parallel: int) -> dict:
    from flows.stages import capacity_stage
    from training.config import PipelineConfig
    from training.variants import baseline_spec

    with tempfile.TemporaryDirectory() as folder:
        config = PipelineConfig(tracking_uri=f"sqlite:///{folder}/mlflow.db", experiment="bench-parallel",
                                max_parallel=max_parallel, work_dir=folder)
        started = time.perf_counter()
        result = capacity_stage(config, baseline_spec(config))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "winner": result.winner.name, "fit_seconds": sum(c.fit_seconds for c in
                                                                                 result.candidates),
            "scores": {c.name: c.score for c in result.candidates}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one)), flush=True)
        return 0
    outcome = {}
    for n in (1, 2):
        done = subprocess.run([sys.executable, "-m", "bench.parallel", "--one", str(n)], capture_output=True,
                              text=True, check=True)
        outcome[n] = json.loads(next(line for line in done.stdout.splitlines()
                                     if line.startswith("RESULT "))[len("RESULT "):])
        print(n, outcome[n], flush=True)
    names = list(outcome[1]["scores"])
    rows = [{"candidate": name, "max_parallel=1": outcome[1]["scores"][name],
             "max_parallel=2": outcome[2]["scores"][name],
             "difference": outcome[2]["scores"][name] - outcome[1]["scores"][name]} for name in names]
    speedup = outcome[1]["seconds"] / outcome[2]["seconds"]
    same = outcome[1]["winner"] == outcome[2]["winner"]
    body = (f"Capacity stage, standard profile, digits ({len(names)} candidates), stage flow wall time.\n\n"
            + table([{"max_parallel": n, "stage wall s": round(o["seconds"], 1),
                      "sum of fit s": round(o["fit_seconds"], 1), "winner": o["winner"]} for n, o in outcome.items()])
            + f"\n\nSpeedup of 2 over 1: **{speedup:.2f}x**. Winner {'unchanged' if same else 'CHANGED'}.\n\n"
            + table(rows) + "\n\nWith two candidates at once, Keras' global seed is shared by concurrent fits, "
            "so scores may differ slightly from a sequential run.\n")
    record("parallel", "6. Parallel candidates: max_parallel 1 vs 2", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
