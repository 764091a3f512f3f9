"""Measurement 6: a stage's candidates one at a time, two at once on threads, and on a local Dask cluster of two
worker processes: speedup over threads, and whether the winner and the scores stay the same.

Each setting runs in its own process, because TensorFlow's thread pools are sized (shared between the
parallel candidates) before its runtime starts. The stage is the standard capacity sweep on the default data,
run as the product runs it: the capacity-stage flow, a throwaway tracking store, default settings (not
deterministic, which on this CPU doubles the time inside fit; so scores may differ in the last digits).
Dask is timed twice: a stage flow run alone starts its own cluster, whose workers import TensorFlow before
they train ("cold"); inside a pipeline run the cluster and its imports are paid once for every stage, so a
second run of the stage on the same cluster shows the steady state ("warm").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

from bench.common import record, table

NOTE = ("On 2 cores one candidate at a time already keeps both cores busy (TensorFlow's intra-op threads), so "
        "two processes of one thread each cannot finish sooner: the sum of fit time doubles as the two fits share "
        "the cores, and Dask adds sending each task with its data and tracing every model in a fresh process. "
        "The cold run also pays the cluster's start and each worker's TensorFlow import (about 20 s here). Dask "
        "pays off where a cluster has more cores or GPUs than one candidate can use.")

SETTINGS = {
    "threads, 1 at a time": {"max_parallel": 1},
    "threads, 2 at once": {"max_parallel": 2},
    "dask, 2 workers, cold": {"task_runner": "dask", "dask_workers": 2},
    "dask, 2 workers, warm": {"task_runner": "dask", "dask_workers": 2},
}


def one(setting: str) -> dict:
    from prefect import flow

    from flows.executors import candidate_cluster
    from flows.stages import capacity_stage
    from training.config import PipelineConfig
    from training.method.grids import baseline_spec

    @flow(name="bench-parallel")
    def measure(config) -> tuple:  # unannotated: Prefect cannot resolve a type imported in this function
        if setting.endswith("warm"):
            with candidate_cluster(config) as on_cluster:
                capacity_stage(on_cluster, baseline_spec(config))  # the workers import and trace once
                started = time.perf_counter()
                result = capacity_stage(on_cluster, baseline_spec(config))
        else:
            started = time.perf_counter()
            result = capacity_stage(config, baseline_spec(config))
        return result, time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        config = PipelineConfig(tracking_uri=f"sqlite:///{folder}/mlflow.db", experiment="bench-parallel",
                                work_dir=folder, **SETTINGS[setting])
        result, seconds = measure(config)
    return {"seconds": seconds, "winner": result.winner.name,
            "fit_seconds": sum(c.fit_seconds for c in result.candidates),
            "scores": {c.name: c.score for c in result.candidates}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one)), flush=True)
        return 0
    outcome = {}
    for setting in SETTINGS:
        done = subprocess.run([sys.executable, "-m", "bench.parallel", "--one", setting], capture_output=True,
                              text=True, check=True)
        outcome[setting] = json.loads(next(line for line in done.stdout.splitlines()
                                           if line.startswith("RESULT "))[len("RESULT "):])
        print(setting, outcome[setting], flush=True)
    first = next(iter(outcome))
    names = list(outcome[first]["scores"])
    rows = [{"candidate": name, **{setting: o["scores"][name] for setting, o in outcome.items()}} for name in names]
    same_scores = all(o["scores"] == outcome[first]["scores"] for o in outcome.values())
    same_winner = len({o["winner"] for o in outcome.values()}) == 1

    def speedup(setting: str, over: str) -> str:
        return f"{outcome[over]['seconds'] / outcome[setting]['seconds']:.2f}x"

    body = (f"Capacity stage, standard profile, digits ({len(names)} candidates), stage wall time.\n\n"
            + table([{"setting": s, "stage wall s": round(o["seconds"], 1), "sum of fit s": round(o["fit_seconds"], 1),
                      "winner": o["winner"]} for s, o in outcome.items()])
            + "\n\nSpeedups: threads 2 at once over 1 at a time "
              f"**{speedup('threads, 2 at once', 'threads, 1 at a time')}**; 2 Dask workers over threads 1 at a "
              f"time **{speedup('dask, 2 workers, warm', 'threads, 1 at a time')}** warm, "
              f"{speedup('dask, 2 workers, cold', 'threads, 1 at a time')} cold; 2 Dask workers over threads 2 at "
              f"once **{speedup('dask, 2 workers, warm', 'threads, 2 at once')}** warm, "
              f"{speedup('dask, 2 workers, cold', 'threads, 2 at once')} cold. Winner "
              f"{'the same in every setting' if same_winner else 'CHANGED'}; scores "
              f"{'identical to the last digit' if same_scores else 'DIFFERENT (table below)'}.\n\n"
            + table(rows) + "\n\n" + NOTE + "\n")
    record("parallel", "6. Parallel candidates: threads (1 and 2 at once) vs 2 Dask workers", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
