"""A folder of images decoded into memory against streamed from disk, side by side in one run: the peak memory
(resident set) and the time of loading, splitting and one epoch of a small CNN, each in a fresh process.

Target (issue 18): a large folder streams from disk, never all in memory at once: the in-memory process holds
every decoded pixel, the streamed one a few batches, so the streamed peak is lower by at least 0.8x the decoded
pixels' size (what is left of the peak is TensorFlow, the network's training and the bounded linear baseline,
the same in both).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import record, table

# What one measured process does: load and split the folder, one epoch of a small CNN; prints its peak RSS.
PROCESS = """
import json, resource, sys, time
from training.config import Selection
from training.data.tables import load_dataset
from training.method.fit import fit
from training.model.spec import ModelSpec
from training.data.split import make_split

started = time.perf_counter()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if sys.argv[2] != "none":
    split = make_split(load_dataset(sys.argv[1]), (0.64, 0.16, 0.2), seed=0, image_memory_mb=float(sys.argv[2]))
    fit(ModelSpec(family="cnn", units=(8, 16), epochs=1, batch_size=64), split, Selection("val_accuracy", "max"),
        seed=0)
else:  # the bare process: the same imports and TensorFlow started, no data
    import tensorflow as tf
    tf.constant(1)
print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - started}))
"""


def write_folder(root: Path, images: int, side: int, classes: int = 4) -> float:
    """`images` random RGB PNG files of side x side pixels in `classes` class folders; their decoded MiB."""
    from training.serving.images import png_bytes

    rng = np.random.default_rng(0)
    for i in range(images):
        folder = root / f"class{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        (folder / f"{i}.png").write_bytes(png_bytes(pixels))
    return images * side * side * 3 / 2**20


def measure(folder: Path, limit: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROCESS, str(folder), limit], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24_000)
    parser.add_argument("--side", type=int, default=64)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-image-memory-") as tmp:
        started = time.perf_counter()
        decoded = write_folder(Path(tmp) / "images", args.images, args.side)
        print(f"{args.images} images of {args.side}x{args.side}x3 written in {time.perf_counter() - started:.0f}s "
              f"({decoded:.0f} MiB decoded)", flush=True)
        bare = measure(Path(tmp) / "images", "none")
        memory = measure(Path(tmp) / "images", "100000")
        disk = measure(Path(tmp) / "images", "0")
    rows = [{"mode": mode, "peak RSS MiB": round(m["peak_mib"]), "above bare MiB": round(m["peak_mib"] -
                                                                                          bare["peak_mib"]),
             "load + split + 1 epoch s": round(m["seconds"], 1)}
            for mode, m in (("bare process (TensorFlow, no data)", bare), ("in memory", memory),
                            ("streamed from disk (--image-memory-mb 0)", disk))]
    saved = memory["peak_mib"] - disk["peak_mib"]
    body = (f"A folder of {args.images} random RGB PNG images of {args.side}x{args.side} ({decoded:.0f} MiB of "
            "decoded uint8 pixels), loaded, split and trained one epoch (CNN 8-16 filters, batch 64), each mode "
            "in a fresh process (`python -m bench.image_memory`).\n\n" + table(rows)
            + f"\n\nStreamed, the peak is {saved:.0f} MiB lower than in memory: {saved / decoded:.2f}x the decoded "
              f"pixels (target: at least 0.8x; {'met' if saved >= 0.8 * decoded else 'not met'}).")
    record("image_memory", "Images in memory against streamed from disk (issue 18)", body)


if __name__ == "__main__":
    main()
