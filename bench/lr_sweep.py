"""The learning rate re-tuned per capacity step, measured: the capacity stage's adaptive plan (the one a pipeline
run replays, training.method.strategy) driven by real fits (training.method.fit) with the sweep off and on, side by
side on the same split and seed. For each: the stage's winner, its validation and test scores, the trainings and
the seconds they took.

    make bench-lr_sweep
    make bench-lr_sweep ARGS="--data wine --seeds 42"

The standard profile's baseline on bundled tables; with the sweep each step's network trains at the incumbent's
rate, a third and three times it, and stands for the step at its best rate.
"""

from __future__ import annotations

import argparse
import time

from bench.common import record, table

DATA = ("digits", "wine", "breast_cancer", "diabetes")


def run(data: str, seed: int, sweep: bool) -> dict:
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.fit import fit, inputs
    from training.method.grids import baseline_spec
    from training.method.selection import CandidateResult
    from training.method.strategy import capacity_plan, epoch_cap, next_step

    config = PipelineConfig(data=data, seed=seed)
    split = make_split(load_dataset(data), config.fractions, seed)
    selection = config.selection(split.task)
    base = baseline_spec(config)
    plan = capacity_plan(base, config.profile, epoch_cap(base.epochs, config.profile), lr_sweep=sweep)
    results, tests, began = [], {}, time.perf_counter()
    test_metric = selection.metric.removeprefix("val_")
    while (step := next_step(plan, results, selection)).batch:
        for name, spec in step.batch.items():
            f = fit(spec, split, selection, seed=seed)
            evaluated = f.model.evaluate(**inputs(split.x_test, split.y_test, 256), verbose=0, return_dict=True)
            tests[name] = float(evaluated[test_metric])
            results.append(CandidateResult.of_fit(name, spec, name, "", f))
    winner = next(r for r in results if r.name == step.outcome.winner)
    return {"data": data, "seed": seed, "sweep": sweep, "metric": selection.metric,
            "regime": results[0].diagnosis.regime,
            "winner": winner.name, "rate": winner.spec.learning_rate, "val": winner.score, "test": tests[winner.name],
            "trainings": len(results), "seconds": time.perf_counter() - began, "story": step.outcome.story}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", default=list(DATA))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 0])
    parser.add_argument("--label", default="", help="a word for the results' title (e.g. a commit)")
    args = parser.parse_args(argv)
    pairs = []
    for data in args.data:
        for seed in args.seeds:
            off, on = run(data, seed, False), run(data, seed, True)
            pairs.append((off, on))
            print(f"{data} seed {seed}: off {off['winner']} {off['val']:.4f} ({off['seconds']:.0f}s), "
                  f"on {on['winner']} {on['val']:.4f} ({on['seconds']:.0f}s)", flush=True)
    rows = [{"data": off["data"], "seed": off["seed"], "metric": off["metric"], "base regime": off["regime"],
             "winner (off)": off["winner"], "winner (sweep)": f"{on['winner']} (lr {on['rate']:.3g})",
             "val off → sweep": f"{off['val']:.4f} → {on['val']:.4f}",
             "test off → sweep": f"{off['test']:.4f} → {on['test']:.4f}",
             "trainings off / sweep": f"{off['trainings']} / {on['trainings']}",
             "seconds off / sweep": f"{off['seconds']:.0f} / {on['seconds']:.0f}"} for off, on in pairs]
    seconds = sum(on["seconds"] for _, on in pairs) / sum(off["seconds"] for off, _ in pairs)
    moved = sum(on["rate"] != off["rate"] for off, on in pairs)
    stories = "\n".join(f"- {on['data']} seed {on['seed']} (sweep): {on['story']}" for _, on in pairs)
    title = f"The learning rate re-tuned per capacity step{f' ({args.label})' if args.label else ''}"
    record("lr_sweep", title,
           "The standard profile's capacity plan, real fits, the sweep off and on side by side on each split and seed. "
           f"**The sweep took {seconds:.1f}x the capacity stage's time and moved the winner's rate in {moved} of "
           f"{len(pairs)} runs.** A test score higher is better for accuracy, lower for the loss (regression).\n\n"
           + table(rows) + "\n\nThe stage's story with the sweep:\n\n" + stories)


if __name__ == "__main__":
    main()
