"""Measurement 3: training throughput of one epoch of the standard spec, plain Keras defaults against
steps_per_execution, a cached and prefetched tf.data pipeline, and XLA (jit_compile), side by side.

Samples per second are timed over several epochs after a warm-up epoch (tracing is not throughput); the
result check trains the plain and the fastest setting for the standard epochs with the same seeds and
compares validation accuracy.
"""

from __future__ import annotations

import argparse
import statistics

from bench.common import epoch_timer, record, table


def variants():
    return {
        "plain model.fit (Keras defaults)": {},
        "steps_per_execution=16": {"steps_per_execution": 16},
        "steps_per_execution=64": {"steps_per_execution": 64},
        "tf.data cache+prefetch": {"dataset": True},
        "jit_compile=True": {"jit_compile": True},
        "tf.data + steps_per_execution=64": {"dataset": True, "steps_per_execution": 64},
        "steps_per_execution=64 + jit_compile": {"steps_per_execution": 64, "jit_compile": True},
    }


def train(spec, split, seed: int, epochs: int, steps_per_execution: int = 1, jit_compile="auto",
          dataset: bool = False):
    import keras
    import tensorflow as tf

    from training.model.build import build_model, make_optimizer

    keras.utils.set_random_seed(seed)
    model = build_model(spec, split.input_shape, split.task, split.n_classes)
    model.compile(optimizer=make_optimizer(spec), loss=model.loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    if dataset:
        train_data = (tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train)).cache()
                      .shuffle(len(split.x_train), seed=seed).batch(spec.batch_size).prefetch(tf.data.AUTOTUNE))
        val_data = (tf.data.Dataset.from_tensor_slices((split.x_val, split.y_val)).batch(spec.batch_size)
                    .cache().prefetch(tf.data.AUTOTUNE))
        fit_args = {"x": train_data, "validation_data": val_data}
    else:
        fit_args = {"x": split.x_train, "y": split.y_train, "validation_data": (split.x_val, split.y_val),
                    "batch_size": spec.batch_size}
    times = []


    history = model.fit(**fit_args, epochs=epochs, verbose=0, callbacks=[epoch_timer(times)])
    return times, history.history


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8, help="timed epochs per setting (after 1 warm-up)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the result check")
    args = parser.parse_args(argv)
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.method.grids import baseline_spec

    config = PipelineConfig()
    split = make_split(load_dataset("digits"), config.fractions, config.seed)
    spec = baseline_spec(config)
    rows = len(split.x_train)
    measured = {}
    for name, options in variants().items():
        times, _ = train(spec, split, seed=0, epochs=args.epochs + 1, **options)
        measured[name] = rows / statistics.median(times[1:])  # epoch 1 traces the functions
        print(f"{name}: {measured[name]:.0f} samples/s", flush=True)
    plain = measured["plain model.fit (Keras defaults)"]
    best = max(measured, key=measured.get)
    result = [{"setting": n, "samples/s": round(v), "vs plain": f"{v / plain:.2f}x"} for n, v in measured.items()]

    # Same seeds, the standard epochs: does the fastest setting change the result beyond seed noise?
    options = variants()[best]
    scores = {"plain": [], best: []}
    for seed in range(args.seeds):
        for name, opts in (("plain", {}), (best, options)):
            _, history = train(spec, split, seed=seed, epochs=spec.epochs, **opts)
            scores[name].append(max(history["val_accuracy"]))
    check = [{"setting": n, "best val_accuracy per seed": ", ".join(f"{s:.4f}" for s in v),
              "mean": statistics.mean(v), "stdev": statistics.stdev(v) if len(v) > 1 else 0.0}
             for n, v in scores.items()]
    body = (f"Standard spec ({spec.describe()}, batch {spec.batch_size}) on digits, {rows} training rows; "
            f"median of {args.epochs} epochs after a warm-up epoch.\n\n{table(result)}\n\n"
            f"Fastest: **{best}**, {measured[best] / plain:.2f}x plain defaults (target >= 1.5x).\n\n"
            f"Result check, {spec.epochs} epochs, seeds 0..{args.seeds - 1}:\n\n{table(check)}\n")
    record("throughput", "3. Training throughput", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
