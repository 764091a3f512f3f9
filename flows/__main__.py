"""Command line: `python -m flows run [...]` (also installed as `keras-mlops`)."""

from __future__ import annotations

import argparse
import sys

import flows  # noqa: F401  (quiet environment defaults before anything heavy is imported)
from training.config import BUNDLED_DATASETS, PROFILES, PipelineConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flows", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the whole pipeline",
        description="Run the pipeline: split -> baseline -> ..., tracked in MLflow, orchestrated by Prefect.")
    run.add_argument("--data", default="digits", metavar="PATH|NAME",
                     help=f"a CSV or Parquet file, or a bundled data set: {', '.join(BUNDLED_DATASETS)} "
                          "(default: digits)")
    run.add_argument("--target", metavar="COL", help="target column (required for files; bundled sets: target)")
    run.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                     help="auto infers it from the target (default: auto)")
    run.add_argument("--profile", choices=list(PROFILES), default="standard",
                     help="quick: a few epochs, for smoke tests; standard: the default; full: nightly on a GPU")
    run.add_argument("--epochs", type=int, help="override the profile's epochs per candidate")
    run.add_argument("--batch-size", type=int, help="override the profile's batch size")
    run.add_argument("--metric", help="selection metric (default val_accuracy for classification, val_loss "
                                      "for regression)")
    run.add_argument("--direction", choices=["max", "min"], help="whether the metric is better higher or lower")
    run.add_argument("--tracking-uri", metavar="URI",
                     help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)")
    run.add_argument("--experiment", default="keras-mlops", help="MLflow experiment name (default: keras-mlops)")
    run.add_argument("--model-name", default="keras-mlops-model", help="registered model name")
    run.add_argument("--seed", type=int, default=42, help="seed of the split and of every fit (default: 42)")
    run.add_argument("--max-parallel", type=int, default=1,
                     help="candidates of a stage trained at once; TensorFlow's threads are shared between them "
                          "(default: 1, right for a CPU machine)")
    run.add_argument("--tuner", choices=["hyperband", "random", "bayesian"], default="hyperband",
                     help="Keras Tuner algorithm of the tuning stage (default: hyperband)")
    run.add_argument("--max-trials", type=int, help="trials of a random or bayesian search (default per profile)")
    return parser


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    fields = {"data": args.data, "target": args.target, "task": args.task, "profile": args.profile,
              "epochs": args.epochs, "batch_size": args.batch_size, "metric": args.metric,
              "direction": args.direction, "tracking_uri": args.tracking_uri, "experiment": args.experiment,
              "model_name": args.model_name, "seed": args.seed,
              "max_parallel": args.max_parallel, "tuner": args.tuner, "max_trials": args.max_trials}
    return PipelineConfig(**{k: v for k, v in fields.items() if v is not None})


def print_summary(result) -> None:
    rows = [(s.stage, s.winner.name, f"{s.winner.score:.4f}", s.winner.diagnosis.regime, str(len(s.candidates)),
             f"{s.seconds:.0f}s") for s in result.stages]
    header = ("stage", "winner", f"best {result.metric}", "regime", "candidates", "time")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join
    print()
    print(f"experiment:      {result.experiment}")
    print(f"pipeline run:    {result.pipeline_run_id}")
    print(f"tracking URI:    {result.tracking_uri}")
    print(f"data:            fingerprint {result.fingerprint}")
    print(f"total time:      {result.seconds:.0f}s")
    print()
    print(line(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print(line(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    from training.tracking import ui_command

    print(f"Open the MLflow UI:  {ui_command(result.tracking_uri)}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from training.config import ConfigError
    from training.data import DataError

    try:
        config = config_from_args(args)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in error.errors())
        print(f"error: invalid configuration: {problems}", file=sys.stderr)
        return 2
    from training.progress import show_progress_on_console

    show_progress_on_console()
    from flows.pipeline import training_pipeline

    try:
        result = training_pipeline(**config.model_dump())
    except (DataError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
