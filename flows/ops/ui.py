"""`make ui`: before the MLflow UI starts, the link a person opens: the experiment's "Training runs" page.

MLflow 3.17's UI opens a fresh browser on its GenAI overview whatever the experiment's kind (mlflow#24498), and a
newcomer lands on traces and token charts; the runs page is where the pipeline's runs are.

    python -m flows.ops.ui --tracking-uri sqlite:///mlruns/mlflow.db --port 5000 --experiment keras-mlops
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.ops.ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--experiment", default="keras-mlops")
    args = parser.parse_args(argv)
    from training.tracking.experiments import experiment_id
    from training.tracking.uris import runs_page, ui_base

    base = ui_base(args.tracking_uri, args.port)
    found = experiment_id(args.tracking_uri, args.experiment)
    if found is None:
        print(f"MLflow UI: {base} (no experiment {args.experiment!r} in this store yet: `make run` makes it)")
    else:
        print(f"MLflow UI, the pipeline's runs: {runs_page(base, found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
