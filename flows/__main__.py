"""Command line: `python -m flows run [...]` (also installed as `keras-mlops`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import flows  # noqa: F401  (quiet environment defaults before anything heavy is imported)
from flows.cli_options import add_config_options, config_fields_from_args
from training.config import PipelineConfig

LIBRARIES = ("tensorflow", "keras", "keras-tuner", "mlflow", "prefect")
# What `check` reads: where the data is and how, whom it is compared with, and the checks' own settings.
CHECK_OPTIONS = ("data", "table", "query", "target", "task", "split_by", "image_size", "image_memory_mb",
                 "max_unreadable_share", "model", "seed", "model_name", "experiment", "tracking_uri", "on_drift",
                 "drift_warn", "drift_threshold", "min_rows_share", "max_null_increase", "max_unseen_share",
                 "accept_schema_change")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flows", description=__doc__)
    parser.add_argument("--version", action=PrintVersion, help="print the version and the libraries' and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the whole pipeline",
        description="Run the pipeline: split -> baseline -> capacity -> regularization -> schedule -> tuning -> "
                     "promotion, tracked in MLflow, orchestrated by Prefect.")
    add_config_options(run)  # one flag per PipelineConfig field: its type, choices, default and description
    run.add_argument("--resume", metavar="RUN",
                     help="Continue an unfinished (failed, killed) pipeline run with its recorded config: finished "
                          "stages are reused, the rest is done; other run options except --tracking-uri are ignored.")

    predict = commands.add_parser(
        "predict", help="score a CSV/Parquet file, or a folder of images, with a registered model",
        description="Score raw rows (or image files) with the preprocessing the model was trained with; one output "
                    "row per input row (per image: its path, the prediction, each class's probability).")
    predict.add_argument("--data", required=True, metavar="FILE|FOLDER",
                         help="CSV or Parquet file of raw rows, or a folder of PNG/JPEG images (an image model).")
    predict.add_argument("--model-uri", help="Default: models:/<model name>@champion.")
    predict.add_argument("--out", required=True, metavar="FILE", help="Where to write predictions (.csv or .parquet).")
    # The registry commands read these values themselves (no PipelineConfig), so they carry the config's defaults.
    registry_options = ("model_name", "tracking_uri")
    add_config_options(predict, names=registry_options, keep_defaults=True)

    check = commands.add_parser(
        "check", help="check data against the champion's (the validation stage alone, nothing recorded)",
        description="Run the data checks of the pipeline's validation stage on --data against the profile of the "
                    "registered model's champion (or --version): the contract, each column's drift, the verdict "
                    "table. Exit status 2 when the night would be refused.")
    add_config_options(check, names=CHECK_OPTIONS)
    check.add_argument("--version", dest="against", metavar="VERSION",
                       help="Compare with this registered version instead of the champion.")

    for name, text in (("rollback", "move `champion` back to the version it replaced, or to --to VERSION"),
                       ("history", "list every alias move of a registered model")):
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_config_options(command, names=registry_options, keep_defaults=True)
        if name == "rollback":
            command.add_argument("--to", metavar="VERSION", help="The version to make champion.")
        else:
            command.add_argument("--at", metavar="TIME", help="Also say which version was champion at this time "
                                                              "(ISO format, e.g. 2026-11-24T12:00).")
    return parser


class PrintVersion(argparse.Action):
    """--version, on one line (argparse's own wraps it at the terminal's width)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()


def version_line() -> str:
    """keras-mlops's version and the libraries' it runs with (read from their installed metadata, not imported)."""
    from importlib import metadata

    libraries = ", ".join(f"{name} {metadata.version(name)}" for name in LIBRARIES)
    return f"keras-mlops {metadata.version('keras-mlops')} ({libraries})"


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    return PipelineConfig(**config_fields_from_args(args))


def print_summary(result) -> None:
    if result.unchanged_since:
        print(f"\nno change: the rows (digest {result.data_digest[:16]}), code and config are those of pipeline run "
              f"{result.unchanged_since}; nothing was trained (pipeline run {result.pipeline_run_id} records that). "
              "Use --force to train anyway.")
        return
    rows = [(s.stage, s.winner.name, f"{s.winner.score:.4f}", s.winner.diagnosis.regime,
             str(len(s.candidates) - len(s.reused)),
             str(sum(c.epochs_run for c in s.candidates if c.name not in s.reused)), f"{s.seconds:.0f}s")
            for s in result.stages]
    header = ("stage", "winner", f"best {result.metric}", "regime", "trained", "epochs", "time")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join
    print()
    print(f"experiment:      {result.experiment}")
    print(f"pipeline run:    {result.pipeline_run_id}")
    print(f"tracking URI:    {result.tracking_uri}")
    print(f"data:            digest {result.data_digest[:16]} (every row read), split fingerprint {result.fingerprint}")
    if result.data_validation:
        print(f"data checks:     {result.data_validation} (the validation run has the report and the drift picture)")
    print(f"total time:      {result.seconds:.0f}s")
    print()
    print(line(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print(line(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    if any(s.story for s in result.stages):
        print("the path (adaptive strategy; each step kept only beyond the noise margin):")
        for stage in result.stages:
            if stage.story:
                print(f"  {stage.stage}: {stage.story}")
        print()
    from training.tracking.uris import ui_command

    if result.promotion:
        p = result.promotion
        print(f"registered:      {p.model_name} version {p.version} from {p.stage}/{p.variant}, "
              f"{p.test_metric} {p.test_score:.4f} -> {p.alias} ({p.reason})")
        if p.baselines:
            compared = ", ".join(f"{name} {score:.4f}" for name, score in p.baselines.items())
            print(f"baselines:       {p.test_metric} {compared} (same split, same test rows)")
        for flag in p.flags:
            print(f"flag:            the network {flag}")
        print(f"load it:         mlflow.pyfunc.load_model('models:/{p.model_name}@{p.alias}')")
    print(f"Open the MLflow UI:  {ui_command(result.tracking_uri)}")
    print(f"the runs:            {result.runs_page}")


def registry_for(args):
    from training.tracking.registry import open_registry
    from training.tracking.uris import resolve_tracking_uri

    return open_registry(resolve_tracking_uri(args.tracking_uri), args.model_name)


def history(args) -> int:
    registry = registry_for(args)
    for move in registry.history():
        print(move.describe())
    if args.at:
        from datetime import datetime

        when = datetime.fromisoformat(args.at).timestamp()
        print(f"champion at {args.at}: version {registry.alias_at('champion', when) or '(none)'}")
    return 0


def rollback(args) -> int:
    from flows.promotion import promotion_lock

    with promotion_lock(args.model_name):  # not in the middle of a pipeline's promotion
        move = registry_for(args).rollback(args.to)
    print(f"{args.model_name}: {move.describe()}")
    return 0


def check(args) -> int:
    from flows.tasks import DataRequest, prepare_devices, prepared_data
    from flows.validation import judge
    from training.report.validation import verdict_text
    from training.tracking.runs import Tracker
    from training.tracking.uris import resolve_tracking_uri

    config = config_from_args(args)
    prepare_devices(config)
    prepared = prepared_data(DataRequest.of(config))
    report = judge(config, Tracker(resolve_tracking_uri(config.tracking_uri), config.experiment), prepared,
                   args.against)
    print(verdict_text(report))
    return 2 if report.blocked else 0


def predict(args) -> int:
    from training.data.tables import read_table
    from training.tracking.models import load_model_for_scoring
    from training.tracking.uris import resolve_tracking_uri

    uri = args.model_uri or f"models:/{args.model_name}@champion"
    if Path(args.data).is_dir():  # images: one row per file, its path first
        import pandas as pd

        from training.data.image_sources import images_to_score
        from training.serving.images import PATH_COLUMN

        model = load_model_for_scoring(uri, resolve_tracking_uri(args.tracking_uri))
        parts = []
        for frame in images_to_score(Path(args.data)):  # a chunk of files at a time; the predictions are small
            part = model.predict(frame.drop(columns=[PATH_COLUMN]))
            part.insert(0, PATH_COLUMN, frame[PATH_COLUMN])
            parts.append(part)
        predictions = pd.concat(parts, ignore_index=True)
    else:
        frame = read_table(args.data)
        model = load_model_for_scoring(uri, resolve_tracking_uri(args.tracking_uri))
        predictions = model.predict(frame)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        predictions.to_parquet(out, index=False)
    else:
        predictions.to_csv(out, index=False)
    print(f"{len(predictions)} prediction(s) from {uri} written to {out}")
    return 0


def _exit_on_sigterm(signum, frame):
    # Prefect turns SIGTERM into an exception inside a flow (runs end KILLED), then sends the signal again to
    # the handler it found. The default handler would kill the process on the spot, skipping atexit, and the
    # temporary Prefect API server this process started would outlive it; a clean exit stops it.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Only where nobody chose a handler yet (not inside a program that embeds this), and put back after.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return _main(args)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        return _main(args)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def config_problems(error) -> str:
    """pydantic's errors of a config, one clause each, naming the field and the refused value."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}"
                     + (f" (got {e['input']!r})" if e["loc"] else "") for e in error.errors())


def _main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from training.config import ConfigError
    from training.data.tables import DataError

    if args.command != "run":
        from training.tracking.errors import TrackingError

        try:
            commands = {"predict": predict, "rollback": rollback, "history": history, "check": check}
            return commands[args.command](args)
        except ValidationError as error:
            print(f"error: invalid configuration: {config_problems(error)}", file=sys.stderr)
            return 2
        except (DataError, ValueError, TrackingError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    from training.data.tables import DataError

    try:
        if args.resume:
            from training.tracking.resume import recorded_config
            from training.tracking.uris import resolve_tracking_uri

            uri = resolve_tracking_uri(args.tracking_uri)
            config = PipelineConfig(**{**recorded_config(uri, args.resume), "tracking_uri": uri})
        else:
            config = config_from_args(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        print(f"error: invalid configuration: {config_problems(error)}", file=sys.stderr)
        return 2
    from training.runtime.progress import show_progress_on_console

    show_progress_on_console()
    from flows.pipeline import training_pipeline
    from flows.tasks import prepare_data, prepare_devices

    try:
        prepare_devices(config)  # before the first TensorFlow op: decoding images, building the model
        # The flow checks the same (a deployment has no CLI in front); checking here first gives a bad input
        # one clear line instead of a failed flow run's traceback. The loaded split is kept for the flow.
        config.selection(prepare_data.fn(config).split.task)
        result = training_pipeline(**config.model_dump(), resume=args.resume)
    except (DataError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
