"""The CNN against the MLP on the bundled images, side by side in one run: `python -m flows run --data
digits-images --model F` for each family (same seed, same profile, same split: the split depends on the data and
seed alone), each a fresh process into a store of its own. Reported: the champion's test accuracy, the epochs
trained (every candidate and tuner trial), the wall time, and the training throughput (rows seen per second
inside model.fit, over every fit).

Issue 18 sets no target: the measurement says what the convolutional family buys on 8x8 digits.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import record, table
from bench.strategy import run_pipeline

FAMILIES = ("mlp", "cnn")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    rows, stories = [], []
    with tempfile.TemporaryDirectory(prefix="bench-families-") as folder:
        for family in FAMILIES:
            m = run_pipeline("digits-images", "adaptive", args.profile, args.seed, Path(folder),
                             extra=("--model", family), label=family)
            print(f"{family}: {m['metric']} {m['test']:.4f}, {m['epochs']} epochs, {m['seconds']:.0f}s, "
                  f"{m['samples_per_s']:.0f} samples/s", flush=True)
            rows.append({"family": family, "champion test accuracy": round(m["test"], 4), "epochs": m["epochs"],
                         "trainings": m["trainings"], "wall s": round(m["seconds"]),
                         "samples/s in fit": round(m["samples_per_s"]), "champion": m["winner"]})
            stories.append(f"**{family}**:\n\n" + "\n".join(f"- {line}" for line in m["story"].splitlines()))
    body = (f"`python -m flows run --data digits-images --model F --profile {args.profile} --seed {args.seed}`, "
            "each in a fresh process and a store of its own, on the same split (fingerprinted alike). Epochs "
            "summed over every candidate and tuner trial; samples/s: train rows times epochs over the seconds "
            "inside model.fit, over every fit.\n\n" + table(rows)
            + "\n\nThe adaptive path of each, per stage:\n\n" + "\n\n".join(stories))
    record("families", "CNN against MLP on digits-images (issue 18)", body)


if __name__ == "__main__":
    main()
