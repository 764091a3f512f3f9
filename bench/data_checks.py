"""What the data checks cost a night: the profile of a table and its validation against the champion's profile
(training.checks), beside what a standard run does with the same table anyway (load and split it, then train),
in a fresh process per size so each peak memory is its own. Goal: under 5% of the run.

A standard run on a large table takes hours here (30 epochs for each of a dozen candidates and the search), so
the run is measured by its unit: one epoch of the standard baseline network (batch 32) through the one training
path (training.method.fit), timed in the same process. The baseline stage alone trains 30 of them; the checks'
share of the run is below their share of those 30 epochs, itself 1/30 of their share of the epoch.

The table: 40 number columns, 9 category columns (12 categories each) and a 3-class target, read from a Parquet
file; the reference profile is the table's with a drift in a fifth of its columns, so the validation computes
every statistic and finds drift (the work a held night does).

    make bench-data-checks                          # 100k and 1M rows
    make bench-data-checks ARGS="--rows 100000"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record, table
from bench.data import PeakSampler

NUMBERS, CATEGORIES = 40, 9


def synthetic(rows: int, shift: float = 0.0):
    """The bench's table; `shift` moves the first fifth of the number columns (a drifted night)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0 if shift == 0 else 1)
    x = rng.normal(size=(rows, NUMBERS))
    x[:, : NUMBERS // 5] += shift
    frame = pd.DataFrame(x, columns=[f"n{i:02d}" for i in range(NUMBERS)])
    names = np.array([f"c{j}" for j in range(12)], dtype=object)
    for i in range(CATEGORIES):
        frame[f"k{i}"] = names[rng.integers(0, 12, size=rows)]
    frame["target"] = ((x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")).astype(str)
    return frame


def one(path: str, reference_path: str) -> dict:
    """In a fresh process: load and split the table (the night's data preparation), then profile it and validate
    it against the reference profile (the checks), each timed, the checks' peak memory above the loaded table."""
    from dataclasses import replace

    from training.checks.profile import DataProfile, numeric, profile_table
    from training.checks.validation import ValidationPolicy, validate
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.fit import fit
    from training.method.grids import baseline_spec

    reference = DataProfile.from_dict(json.loads(Path(reference_path).read_text()))
    config = PipelineConfig(data=path, target="target")
    with PeakSampler() as prep:
        began = time.perf_counter()
        dataset = load_dataset(path, "target")
        split = make_split(dataset, config.fractions, config.seed)
        prep_s = time.perf_counter() - began
    table_mib = dataset.frame.memory_usage(deep=True).sum() / 2**20
    with PeakSampler() as checks:
        began = time.perf_counter()
        profile = profile_table(dataset.frame, dataset.target, dataset.task, config.seed)
        profile_s = time.perf_counter() - began
        report = validate(reference, profile, lambda column: numeric(dataset.frame[column]), ValidationPolicy(),
                          "the reference")
        validate_s = time.perf_counter() - began - profile_s
    epoch = fit(replace(baseline_spec(config), epochs=1), split, config.selection(split.task), seed=config.seed)
    return {"epoch_s": epoch.fit_seconds, "rows": len(dataset.frame), "table_mib": table_mib, "prep_s": prep_s,
            "prep_peak": prep.peak - prep.start,
            "profile_s": profile_s, "validate_s": validate_s, "checks_peak": checks.peak - checks.start,
            "status": report.status, "drifted": len(report.drifted), "profile_kib": len(json.dumps(profile.to_dict()))
            / 1024}


def measure(path: Path, reference: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.data_checks", "--one", str(path), str(reference)],
                          capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        raise SystemExit(f"{path}: {done.stderr[-3000:]}")
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(*args.one)), flush=True)
        return
    from training.checks.profile import profile_table

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-checks-") as folder:
        for rows in args.rows:
            path, reference = Path(folder) / f"night-{rows}.parquet", Path(folder) / f"reference-{rows}.json"
            synthetic(rows, shift=0.5).to_parquet(path)
            reference.write_text(json.dumps(profile_table(synthetic(rows), "target", "classification").to_dict()))
            results.append(measure(path, reference))
    lines = [{"rows": r["rows"], "table MiB": round(r["table_mib"]), "load + split s": round(r["prep_s"], 1),
              "profile s": round(r["profile_s"], 2), "validate s": round(r["validate_s"], 2),
              "checks / load + split": round((r["profile_s"] + r["validate_s"]) / r["prep_s"], 2),
              "one standard epoch s": round(r["epoch_s"], 1),
              "checks / baseline stage (30 epochs)": f"{(r['profile_s'] + r['validate_s']) / (30 * r['epoch_s']):.2%}",
              "load + split peak MiB": round(r["prep_peak"]), "checks peak MiB": round(r["checks_peak"]),
              "checks peak / table": round(r["checks_peak"] / r["table_mib"], 2),
              "profile KiB": round(r["profile_kib"]), "verdict": f"{r['status']} ({r['drifted']} drifted)"}
             for r in results]
    record("data_checks", f"The data checks: {NUMBERS} number and {CATEGORIES} category columns",
           "In a fresh process per size: load a Parquet file and split it (what every night does anyway), then "
           "profile the table and validate it against a reference profile with a fifth of the number columns "
           "shifted by half a standard deviation (every statistic computed, drift found), then train one epoch of "
           "the standard baseline network on the split (the run's unit: the baseline stage alone trains 30, the "
           "whole standard run hundreds). Peak resident memory above each step's start; the checks' against the "
           "table's own size in pandas.\n\n" + table(lines))


if __name__ == "__main__":
    main()
