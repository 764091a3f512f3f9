"""A labelled diagnosis benchmark: training situations built on purpose, on bundled data, each with the regime the
course names for it, trained through the one training path (training.method.fit) and diagnosed as a stage would
diagnose them (the linear reference, the standard error of the validation score). Prints the confusion table,
expected against diagnosed, and the share right. Goal: at least 11 of 12 right, every miss explained.

    make bench-diagnosis
    make bench-diagnosis ARGS="--only too-small label-noise"

The labels follow from how each case is built, not from what the diagnosis said: a network of two units cannot
fit ten classes (underfitting), a learning rate of 50 makes SGD's loss non-finite (diverged), a million weights on
200 rows memorise them (overfitting), and so on; `why` says it for each.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from bench.common import record, table

UNDER, OVER, GOOD, STILL, DIVERGED = "underfitting", "overfitting", "good fit", "still improving", "diverged"
REGIMES = (UNDER, STILL, GOOD, OVER, DIVERGED)


@dataclass(frozen=True)
class Case:
    name: str
    data: str
    spec: dict
    expected: str
    why: str
    rows: int | None = None  # a seeded sample of the data set's rows
    label_noise: float = 0.0  # the share of rows whose label is replaced by a random class
    extra: dict = field(default_factory=dict)


CASES = [
    Case("too-small", "digits", {"units": (2,)}, UNDER,
         "two hidden units cannot separate ten classes: training and validation both below a linear model"),
    Case("too-few-epochs", "digits", {"units": (64,), "epochs": 2, "learning_rate": 3e-4}, UNDER,
         "two epochs at a small rate: both curves still falling, the network far from fitting its rows"),
    Case("learning-rate-too-low", "digits", {"learning_rate": 1e-6, "epochs": 20}, UNDER,
         "a rate of 1e-6: the loss barely moves in 20 epochs"),
    Case("learning-rate-too-high", "digits", {"optimizer": "sgd", "learning_rate": 50.0, "epochs": 5}, DIVERGED,
         "SGD at a rate of 50: the loss overflows"),
    Case("far-too-large-few-rows", "digits", {"units": (1024, 1024, 512), "epochs": 100}, OVER,
         "1.7M weights on 128 training rows: memorised, validation loss turns back up", rows=200),
    Case("heavy-dropout", "digits", {"units": (32,), "dropout": 0.9}, UNDER,
         "90% of the inputs and units dropped: the training rows themselves are not fitted"),
    Case("huge-l2", "digits", {"l2": 0.5}, UNDER,
         "an L2 factor of 0.5 holds every weight near zero: the network cannot fit"),
    Case("label-noise", "digits", {"units": (512, 256), "epochs": 60}, OVER,
         "40% of the labels random: a large network learns them by heart, validation loss rises",
         label_noise=0.4),
    Case("early-stopped-good-fit", "breast_cancer", {"units": (16,), "epochs": 200, "early_stopping": True,
                                                    "patience": 10}, GOOD,
         "a small network on an easy table, stopped by early stopping at its plateau"),
    Case("well-sized", "wine", {"units": (16,), "epochs": 200}, GOOD,
         "16 units for 13 features and 3 classes, trained to its plateau (200 epochs of 4 steps)"),
    Case("fits-its-rows-short-of-epochs", "digits", {"units": (256, 128), "epochs": 8, "learning_rate": 3e-4}, STILL,
         "a network big enough to fit every training row, stopped while validation still improves"),
    Case("cnn-short", "digits-images", {"family": "cnn", "units": (16, 32), "epochs": 3, "batch_size": 64}, UNDER,
         "three epochs of a CNN: still learning, below what a linear model reaches"),
    Case("cnn-short-batchnorm", "digits-images", {"family": "cnn", "units": (16, 32), "epochs": 3, "batch_size": 64,
                                                  "batchnorm": True}, UNDER,
         "the same with batch normalization: judged on its settled statistics, the same regime as without"),
    Case("regression-far-too-large", "diabetes", {"units": (512, 256), "epochs": 200}, OVER,
         "a large network on 282 noisy training rows for 200 epochs: validation loss turns back up"),
]


def split_of(case: Case):
    import numpy as np

    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset

    dataset = load_dataset(case.data)
    frame = dataset.frame
    if case.rows:
        frame = frame.sample(case.rows, random_state=0).reset_index(drop=True)
    if case.label_noise:
        rng = np.random.default_rng(0)
        frame = frame.copy()
        noisy = rng.random(len(frame)) < case.label_noise
        classes = frame[dataset.target].unique()
        frame.loc[noisy, dataset.target] = rng.choice(classes, size=int(noisy.sum()))
    config = PipelineConfig()
    return make_split(replace(dataset, frame=frame), config.fractions, config.seed)


def run(case: Case, seed: int) -> dict:
    from training.config import PipelineConfig
    from training.method.fit import fit
    from training.model.spec import ModelSpec

    split = split_of(case)
    selection = PipelineConfig().selection(split.task)
    began = time.perf_counter()
    result = fit(ModelSpec(**case.spec), split, selection, seed=seed)
    d = result.diagnosis
    return {"case": case.name, "data": case.data, "expected": case.expected, "diagnosed": d.regime,
            "right": d.regime == case.expected, "score": result.score, "train": d.train_score,
            "reference": d.reference, "epochs": len(result.history["loss"]), "advice": d.advice,
            "seconds": time.perf_counter() - began}


def confusion(results: list[dict]) -> str:
    counts = Counter((r["expected"], r["diagnosed"]) for r in results)
    rows = [{"expected \\ diagnosed": e, **{d: counts[(e, d)] or "" for d in REGIMES}}
            for e in REGIMES if any(r["expected"] == e for r in results)]
    return table(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", help="run these cases only (by name)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 0, 1],
                        help="each case is trained once per seed (the first seed's numbers fill the table)")
    parser.add_argument("--label", default="", help="a word for the results' title (e.g. a commit)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.only or c.name in args.only]
    results = []
    for case in cases:
        for seed in args.seeds:
            results.append({**run(case, seed), "seed": seed})
            r = results[-1]
            print(f"{r['case']} (seed {seed}): expected {r['expected']}, diagnosed {r['diagnosed']} "
                  f"({r['seconds']:.1f}s) - {r['advice']}", flush=True)
    right = sum(r["right"] for r in results)
    first = [r for r in results if r["seed"] == args.seeds[0]]
    lines = [{"case": r["case"], "data": r["data"], "expected": r["expected"],
              "diagnosed (per seed)": ", ".join(("" if o["right"] else "**") + o["diagnosed"]
                                               + ("" if o["right"] else "**")
                                               for o in results if o["case"] == r["case"]),
              "val score": round(r["score"], 4), "train score": "" if r["train"] is None else round(r["train"], 4),
              "linear": "" if r["reference"] is None else round(r["reference"], 4), "epochs": r["epochs"],
              "why this label": next(c.why for c in cases if c.name == r["case"])} for r in first]
    advice = "\n".join(f"- {r['case']}: {r['advice']}" for r in first)
    title = f"The diagnosis against labelled situations{f' ({args.label})' if args.label else ''}"
    record("diagnosis", title,
           f"Each case trained once per seed ({', '.join(map(str, args.seeds))}) through training.method.fit and "
           f"diagnosed as a stage does. **{right} of {len(results)} right** ({len(cases)} cases); by the first "
           f"seed: {sum(r['right'] for r in first)} of {len(first)}.\n\n" + confusion(results) + "\n\n"
           + table(lines) + f"\n\nWhat the diagnosis said (seed {args.seeds[0]}):\n\n" + advice)


if __name__ == "__main__":
    main()
