"""Measurement 2: the product against the script users would otherwise write.

`script()` below is that script: the same stages, grids and epochs as the standard profile, each fit in an
MLflow run with `mlflow.keras.autolog()` defaults, stage winners picked by best val_accuracy, then Keras
Tuner's Hyperband with its defaults (max_epochs as the product's standard budget), the best retrained and
registered. The grids come from training.method.grids so both do the same work; everything else is plain Keras,
scikit-learn and MLflow, as a hand-written script is.

`main()` runs the script and the product (`python -m flows run`) each in a fresh process, one after the
other, and reports wall time, wall seconds per epoch trained, and the champion's test accuracy of both.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

from bench.common import record, table
from bench.newcomer import record_newcomer, run_product


def script(tracking_uri: str, folder: str) -> dict:
    import keras
    import keras_tuner as kt
    import mlflow
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from training.method.grids import CAPACITY_UNITS, REGULARIZATION, SCHEDULE_VARIANTS, SCHEDULES_BY_PROFILE

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("handwritten")
    mlflow.keras.autolog()
    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=42)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.2, stratify=y_rest,
                                                      random_state=42)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val, x_test = (scaler.transform(a).astype("float32") for a in (x_train, x_val, x_test))
    epochs_trained = 0

    def build(units=(128, 64), dropout=0.0, batchnorm=False, lr=1e-3):
        model = keras.Sequential([keras.Input((64,))])
        for n in units:
            if dropout:
                model.add(keras.layers.Dropout(dropout))
            model.add(keras.layers.Dense(n, use_bias=not batchnorm))
            if batchnorm:
                model.add(keras.layers.BatchNormalization())
            model.add(keras.layers.Activation("relu"))
        model.add(keras.layers.Dense(10, activation="softmax"))
        model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def callbacks(variant: dict):
        out = []
        if variant.get("schedule") == "exponential":
            out.append(keras.callbacks.LearningRateScheduler(
                lambda e, lr: 1e-3 * variant["decay_rate"] ** (e / variant["decay_every"])))
        if variant.get("schedule") == "step":
            out.append(keras.callbacks.LearningRateScheduler(
                lambda e, lr: 1e-3 * variant["decay_rate"] ** (e // variant["decay_every"])))
        if variant.get("reduce_on_plateau"):
            out.append(keras.callbacks.ReduceLROnPlateau(patience=variant["patience"]))
        if variant.get("early_stopping"):
            out.append(keras.callbacks.EarlyStopping(patience=variant["patience"], restore_best_weights=True))
        if variant.get("checkpoint_best"):
            out.append(keras.callbacks.ModelCheckpoint(f"{folder}/best.keras", monitor="val_accuracy",
                                                       save_best_only=True))
        return out

    def train(name, fit_callbacks=(), **arch):
        nonlocal epochs_trained
        keras.utils.set_random_seed(42)
        with mlflow.start_run(run_name=name, nested=True):
            model = build(**arch)
            history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=30, batch_size=32,
                                callbacks=list(fit_callbacks), verbose=0)
        epochs_trained += len(history.history["loss"])
        return max(history.history["val_accuracy"]), model

    def stage(name, candidates):
        with mlflow.start_run(run_name=name):
            scores = {variant: train(variant, **kwargs) for variant, kwargs in candidates.items()}
        best = max(scores, key=lambda v: scores[v][0])
        return best, candidates[best]

    arch = {"units": (128, 64)}
    stage("baseline", {"base": {**arch}})
    _, arch = stage("capacity", {"base": arch, **{"-".join(map(str, u)): {"units": u}
                                                  for u in CAPACITY_UNITS["standard"]}})
    _, arch = stage("regularization", {"base": arch, **{f"d{d}-bn{b}": {**arch, "dropout": d, "batchnorm": b}
                                                        for d, b in REGULARIZATION["standard"]}})
    _, best = stage("schedule", {"base": arch, **{v: {**arch, "fit_callbacks": callbacks(SCHEDULE_VARIANTS[v])}
                                                  for v in SCHEDULES_BY_PROFILE["standard"]}})

    def hypermodel(hp):
        return build(units=tuple(hp.Choice(f"units_{i}", [32, 64, 128, 256, 512])
                                 for i in range(hp.Int("layers", 1, 4))),
                     dropout=hp.Choice("dropout", [0.0, 0.2, 0.3, 0.5]), batchnorm=hp.Boolean("batchnorm"),
                     lr=hp.Choice("lr", [3e-4, 1e-3, 3e-3]))

    tuner = kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=20, directory=folder,
                         project_name="search", seed=42)
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), verbose=0)
    trials = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    epochs_trained += sum(int(t.hyperparameters.values.get("tuner/epochs", 20))
                          - int(t.hyperparameters.values.get("tuner/initial_epoch", 0)) for t in trials)
    with mlflow.start_run(run_name="final"):
        keras.utils.set_random_seed(42)
        model = tuner.hypermodel.build(tuner.get_best_hyperparameters(1)[0])
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=30, batch_size=32, verbose=0)
        epochs_trained += len(history.history["loss"])
        test_accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
        mlflow.log_metric("test_accuracy", test_accuracy)
        run_id = mlflow.active_run().info.run_id
    mlflow.register_model(f"runs:/{run_id}/model", "handwritten")
    _ = best
    return {"test_accuracy": test_accuracy, "epochs": epochs_trained, "trials": len(trials)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--script-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.script_only:
        print("RESULT " + json.dumps(script(args.uri, args.folder)), flush=True)
        return 0
    outcome = {}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bench.handwritten", "--script-only", "--uri",
                               f"sqlite:///{folder}/script.db", "--folder", folder], capture_output=True, text=True)
        if done.returncode:
            print(done.stdout[-3000:], done.stderr[-3000:])
            return 1
        outcome["hand-written script (autolog)"] = {
            **json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:]),
            "seconds": time.perf_counter() - started}
        print(outcome, flush=True)
        measured = run_product(f"sqlite:///{folder}/product.db")
        record_newcomer(measured, " Measured as the product half of bench/handwritten.py.")
        outcome["keras-mlops pipeline"] = measured
        print(outcome, flush=True)
    script_s = outcome["hand-written script (autolog)"]["seconds"]
    product_s = outcome["keras-mlops pipeline"]["seconds"]
    rows = [{"": name, "wall s": round(o["seconds"], 1), "epochs trained": o["epochs"],
             "wall s per epoch": round(o["seconds"] / o["epochs"], 3), "champion test_accuracy": o["test_accuracy"]}
            for name, o in outcome.items()]
    ratio = product_s / script_s
    met = ratio <= 0.3 and rows[1]["champion test_accuracy"] >= rows[0]["champion test_accuracy"]
    body = (f"Same stages, grids and epochs (standard profile) on digits; each in a fresh process, one after the "
            f"other. The script is `bench/handwritten.py:script`.\n\n{table(rows)}\n\n"
            f"Wall-time ratio product / script: **{ratio:.2f}** (target <= 0.3 with a champion at least as good: "
            f"{'met' if met else 'not met'}).\n")
    record("handwritten", "2. Against the hand-written autolog script", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
