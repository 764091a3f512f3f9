"""Augmentation as the "more data" remedy, measured: the regularization stage's adaptive plan (the same plan a
pipeline run replays, training.method.strategy) driven by real fits (training.method.fit) on overfitting image
bases, once per seed. For each run: the base's regime, whether the augmentation rung was offered, which rung the
noise-aware judge kept, and what the stage's winner gains over the base on the validation rows and on the test
rows it never saw.

    make bench-augmentation
    make bench-augmentation ARGS="--only digits-folder --seeds 42"

Cases:
- digits-images: the bundled 8x8 digits as images (1797), the CNN baseline of the standard profile (16-32 filters);
- digits-images-wide: the same rows, a CNN four times as wide (64-128 filters);
- digits-folder: a small folder of class folders (80 PNGs per class, 800 images, upscaled to 24x24) written from the
  same digits and read through the folder loader a user's images go through, where the base has few rows and
  overfits; a CNN of 32-64 filters.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import record, table


@dataclass(frozen=True)
class Case:
    name: str
    units: tuple[int, ...]
    per_class: int | None = None  # a folder of this many images per class; None: the bundled digits-images
    side: int = 8


CASES = [Case("digits-images", (16, 32)), Case("digits-images-wide", (64, 128)),
         Case("digits-folder", (32, 64), per_class=80, side=24)]


def write_folder(root: Path, per_class: int, side: int) -> Path:
    """Digits as PNG files in one folder per class, upscaled (bilinear) as a photographed digit would be."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    rng = np.random.default_rng(0)
    for label in range(10):
        folder = root / str(label)
        folder.mkdir(parents=True)
        for i in rng.choice(np.flatnonzero(bunch.target == label), per_class, replace=False):
            pixels = np.rint(bunch.images[i] * (255 / 16)).astype("uint8")
            Image.fromarray(pixels).resize((side, side), Image.BILINEAR).save(folder / f"{i}.png")
    return root


def candidate(name, spec, fitted, split):
    """The stage's record of a fit, and the fitted model's accuracy on the test rows."""
    from training.method.fit import inputs
    from training.method.selection import CandidateResult

    test = fitted.model.evaluate(**inputs(split.x_test, split.y_test, 256), verbose=0, return_dict=True)
    return CandidateResult.of_fit(name, spec, name, "", fitted), float(test["accuracy"])


def run(case: Case, seed: int, data: str) -> dict:
    from dataclasses import replace

    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.fit import fit
    from training.method.grids import baseline_spec
    from training.method.strategy import next_step, plan_regularization

    config = PipelineConfig(data=data, seed=seed)
    split = make_split(load_dataset(data), config.fractions, seed)
    selection = config.selection(split.task)
    base = replace(baseline_spec(config), units=case.units)
    plan = plan_regularization(base, config)
    results, tests, began = [], {}, time.perf_counter()
    while (step := next_step(plan, results, selection)).batch:
        for name, spec in step.batch.items():
            result, tests[name] = candidate(name, spec, fit(spec, split, selection, seed=seed), split)
            results.append(result)
            print(f"  {case.name} seed {seed}: {name} val {result.score:.4f} test {tests[name]:.4f} "
                  f"({result.diagnosis.regime})", flush=True)
    outcome = step.outcome
    by_name = {r.name: r for r in results}
    winner, first = by_name[outcome.winner], by_name["base"]
    augment = [r for r in results if r.spec.augment > 0]
    return {"case": case.name, "seed": seed, "rows": split.rows["train"], "regime": first.diagnosis.regime,
            "offered": bool(augment), "winner": outcome.winner, "augmented": winner.spec.augment > 0,
            "base val": first.score, "winner val": winner.score, "base test": tests["base"],
            "winner test": tests[outcome.winner],
            "best augment": max(augment, key=lambda r: r.score).name if augment else "",
            "augment val": max(r.score for r in augment) if augment else None,
            "augment test": max(tests[r.name] for r in augment) if augment else None,
            "trainings": len(results), "seconds": time.perf_counter() - began, "story": outcome.story}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", help="run these cases only (by name)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 0, 1])
    parser.add_argument("--label", default="", help="a word for the results' title (e.g. a commit)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-augmentation-") as scratch:
        for case in [c for c in CASES if not args.only or c.name in args.only]:
            data = ("digits-images" if case.per_class is None
                    else str(write_folder(Path(scratch) / case.name, case.per_class, case.side)))
            for seed in args.seeds:
                results.append(run(case, seed, data))
                r = results[-1]
                print(f"{r['case']} seed {seed}: {r['regime']}, winner {r['winner']} ({r['seconds']:.0f}s)",
                      flush=True)

    def num(value):
        return "" if value is None else round(value, 4)

    rows = [{"case": r["case"], "seed": r["seed"], "train rows": r["rows"], "base regime": r["regime"],
             "augmentation offered": "yes" if r["offered"] else "no", "stage winner": r["winner"],
             "val base → winner": f"{num(r['base val'])} → {num(r['winner val'])}",
             "test base → winner": f"{num(r['base test'])} → {num(r['winner test'])}",
             "best augmentation rung (val, test)": (f"{r['best augment']} ({num(r['augment val'])}, "
                                                    f"{num(r['augment test'])})" if r["offered"] else ""),
             "trainings": r["trainings"], "seconds": round(r["seconds"])} for r in results]
    chosen = Counter(r["case"] for r in results if r["augmented"])
    offered = Counter(r["case"] for r in results if r["offered"])
    runs = Counter(r["case"] for r in results)
    summary = "; ".join(f"{case}: offered in {offered[case]} of {n}, chosen in {chosen[case]} of {n}"
                        for case, n in runs.items())
    stories = "\n".join(f"- {r['case']} seed {r['seed']}: {r['story']}" for r in results)
    title = f"Augmentation in the regularization stage{f' ({args.label})' if args.label else ''}"
    record("augmentation", title,
           "The standard profile's regularization plan on an overfitting CNN base, real fits, one run per seed "
           f"({', '.join(map(str, args.seeds))}). **{summary}.**\n\n" + table(rows)
           + "\n\nThe stage's story per run:\n\n" + stories)


if __name__ == "__main__":
    main()
