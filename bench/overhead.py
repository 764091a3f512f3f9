"""The profile behind measurement 1: where a pipeline's time goes besides model.fit.

Three parts, each measured here in a fresh process: startup (imports and Prefect's temporary API), a stage
candidate (the train_candidate task under cProfile), and a Keras Tuner trial (a short Hyperband search under
cProfile). Times are cumulative seconds of named functions, per candidate or per trial.
"""

from __future__ import annotations

import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import record, table

STARTUP = """
import time
t = time.perf_counter()
import training, tensorflow, keras
a = time.perf_counter()
import flows.pipeline, mlflow, prefect
b = time.perf_counter()
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    client.hello()
c = time.perf_counter()
print(f"RESULT {a - t} {b - a} {c - b}")
"""


def cumulative(stats: pstats.Stats, wanted: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Cumulative seconds of each (file suffix, function name), summed over matching entries."""
    out = dict.fromkeys(wanted, 0.0)
    for (filename, _, function), (_, _, _, cum, _) in stats.stats.items():
        for label, (suffix, name) in wanted.items():
            if function == name and filename.endswith(suffix):
                out[label] += cum
    return out


def main(argv=None) -> int:
    done = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True)
    tf_s, libs_s, api_s = map(float, next(line for line in done.stdout.splitlines()
                                          if line.startswith("RESULT ")).split()[1:])

    from flows.tasks import train_candidate
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.grids import baseline_spec
    from training.tracking.runs import Tracker
    from tuning.tuner import BUDGETS, run_search

    config = PipelineConfig()
    split = make_split(load_dataset("digits"), config.fractions, config.seed)
    selection = config.selection(split.task)
    spec = baseline_spec(config)
    n = 5
    with tempfile.TemporaryDirectory() as folder:
        tracker = Tracker(f"sqlite:///{folder}/mlflow.db", "bench-overhead")
        with tracker.run("stage") as stage_run_id:
            train_candidate.fn("overhead", "warm-up", spec, split, selection, config, tracker, stage_run_id)
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            fit_s = sum(train_candidate.fn("overhead", f"c{i}", spec, split, selection,
                                           config.model_copy(update={"seed": i}), tracker,
                                           stage_run_id).fit_seconds for i in range(n))
            profile.disable()
            candidate_wall = (time.perf_counter() - started) / n
        parts = cumulative(pstats.Stats(profile), {
            "model.fit (as fit_seconds counts it)": ("keras/src/backend/tensorflow/trainer.py", "fit"),
            "of which tracing tf.functions": ("tracing_compilation.py", "_maybe_define_function"),
            "of which the per-epoch MLflow log (EpochLogger)": ("training/tracking/epoch_logger.py", "on_epoch_end"),
            "model.evaluate after fit (the returned weights)": ("keras/src/backend/tensorflow/trainer.py",
                                                                "evaluate"),
            "build_model + compile": ("training/model/build.py", "build_model"),
            "learning-curve figure": ("training/report/plots.py", "learning_curves"),
            "saving the figure to MLflow": ("training/tracking/runs.py", "log_figure"),
            "logging the model (keras flavor)": ("training/tracking/models.py", "log_keras_model"),
            "run start/end, params, metrics, tags": ("mlflow/tracking/fluent.py", "start_run"),
        })
        rows = [{"per candidate (standard spec, 30 epochs)": k, "s": round(v / n, 3)} for k, v in parts.items()]
        rows.insert(0, {"per candidate (standard spec, 30 epochs)": "wall", "s": round(candidate_wall, 3)})

        tracker = Tracker(f"sqlite:///{folder}/mlflow.db", "bench-overhead")
        with tracker.run("tuning") as stage_run_id:
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            summary = run_search("hyperband", replace(spec, epochs=9), split, selection,
                                 replace(BUDGETS["standard"], max_epochs=9), Path(folder) / "hb", tracker,
                                 stage_run_id, config.seed)
            profile.disable()
            search_wall = time.perf_counter() - started
        trial_parts = cumulative(pstats.Stats(profile), {
            "training.method.fit (fit + evaluate)": ("training/method/fit.py", "fit"),
            "model.fit": ("keras/src/backend/tensorflow/trainer.py", "fit"),
            "building the model (clear_session + build)": ("tuning/tuner.py", "_try_build"),
            "Keras Tuner: saving the best epoch's weights": ("keras_tuner/src/engine/tuner_utils.py", "_save_model"),
            "Keras Tuner: oracle bookkeeping (trial/oracle JSON)": ("keras_tuner/src/engine/base_tuner.py",
                                                                     "on_trial_end"),
            "MLflow: trial run, params, curves, score": ("mlflow/tracking/fluent.py", "start_run"),
        })
        t = summary.trials
        trial_rows = [{"per trial (Hyperband, max 9 epochs)": "wall", "s": round(search_wall / t, 3)}]
        trial_rows += [{"per trial (Hyperband, max 9 epochs)": k, "s": round(v / t, 3)} for k, v in trial_parts.items()]
    body = (f"Startup of a pipeline process: importing TensorFlow/Keras {tf_s:.1f} s, the flows with MLflow and "
            f"Prefect {libs_s:.1f} s, the first call to Prefect's temporary API (starting it) {api_s:.1f} s.\n\n"
            f"A stage candidate, {n} after a warm-up (fit_seconds {fit_s / n:.2f} s each):\n\n{table(rows)}\n\n"
            f"A Hyperband search of {t} trials and {summary.epochs} epochs:\n\n{table(trial_rows)}\n\n"
            "Outside model.fit, a candidate spends its time evaluating the returned weights (a second traced "
            "function), drawing and saving its learning curves, and logging its model. Inside model.fit, about "
            "half is tracing: every candidate is a new model, so its functions are traced anew. A tuner trial "
            "costs little besides its fit since Keras Tuner's forced garbage collections are skipped "
            "(tuning/tuner.py). A process pays its startup once.\n")
    record("overhead", "1a. Where the overhead goes (profile)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
