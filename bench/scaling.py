"""Measurement 4: time per epoch and peak memory as the table grows: 1k, 10k, 100k and 1M rows of a synthetic
table (scikit-learn's make_classification, 50 features), through the product's own path (validation, split,
preprocessing, the one fit), the standard spec, one process per size so each peak is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import epoch_timer, peak_rss_mib, record, table

SIZES = (1_000, 10_000, 100_000, 1_000_000)


def one(rows: int) -> dict:
    from dataclasses import replace

    import pandas as pd
    from sklearn.datasets import make_classification

    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import validate_table
    from training.method.fit import fit
    from training.method.grids import baseline_spec

    before = peak_rss_mib()
    x, y = make_classification(n_samples=rows, n_features=50, n_informative=10, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(50)]).assign(target=y)
    del x, y
    table_mib = frame.memory_usage(deep=True).sum() / 2**20
    config = PipelineConfig()
    dataset = validate_table(frame, "target", "classification", "synthetic", "make_classification")
    split = make_split(dataset, config.fractions, config.seed)
    times = []


    spec = replace(baseline_spec(config), epochs=2)
    fit(spec, split, config.selection("classification"), seed=0, callbacks=[epoch_timer(times)])
    return {"rows": rows, "train_rows": len(split.x_train), "epoch_s": times[-1], "table_mib": table_mib,
            "peak_mib": peak_rss_mib(), "start_mib": before}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-rows", type=int, default=SIZES[-1])
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one)), flush=True)
        return 0
    results = []
    for rows in (s for s in SIZES if s <= args.max_rows):
        done = subprocess.run([sys.executable, "-m", "bench.scaling", "--one", str(rows)], capture_output=True,
                              text=True, check=True)
        results.append(json.loads(next(line for line in done.stdout.splitlines()
                                        if line.startswith("RESULT "))[len("RESULT "):]))
        print(results[-1], flush=True)
    base = results[0]
    rows = [{"rows": r["rows"], "epoch s (2nd epoch)": round(r["epoch_s"], 3),
             "s per 1M train rows": round(r["epoch_s"] / r["train_rows"] * 1e6, 2),
             "table MiB": round(r["table_mib"], 1), "peak RSS MiB": round(r["peak_mib"]),
             "peak - start MiB": round(r["peak_mib"] - r["start_mib"]),
             "(peak - start) / table": round((r["peak_mib"] - r["start_mib"]) / r["table_mib"], 2)}
            for r in results]
    largest = results[-1]
    linear = (largest["epoch_s"] / largest["train_rows"]) / (results[1]["epoch_s"] / results[1]["train_rows"])
    body = (f"Standard spec, batch 32, 50 features; each size in a fresh process.\n\n{table(rows)}\n\n"
            f"Time per row at {largest['rows']:,} rows is {linear:.2f}x that at {results[1]['rows']:,} rows "
            f"(1.00 = linear). The memory added by data, split and training at {largest['rows']:,} rows is "
            f"{(largest['peak_mib'] - largest['start_mib']) / largest['table_mib']:.1f}x the table itself: the "
            "float64 source frame, the float32 train/val/test arrays made from it, and one TensorFlow copy of the "
            "train rows (above 200k rows batches gather shuffled indices instead of holding a shuffle buffer of "
            "rows). The split is built once per process and shared by every stage "
            f"(flows.tasks.prepare_data).\n")
    _ = base
    record("scaling", "4. Scaling with rows", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
