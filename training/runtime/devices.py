"""Where training runs: GPUs with memory growth and (when it pays) mixed precision, else the CPU unchanged.

One GPU per flow run is arranged outside: each GPU worker is started with its own CUDA_VISIBLE_DEVICES
and a concurrency limit of 1 (docs/team.md), so TensorFlow here sees at most one GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tensor cores (compute capability 7.0, Volta, and later) make float16 matmuls much faster; older GPUs
# gain little and lose precision, so "auto" turns mixed precision on only from there.
MIXED_PRECISION_MIN_CAPABILITY = (7, 0)


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "gpu" or "cpu"
    names: tuple[str, ...]
    mixed_precision: bool

    def tags(self) -> dict[str, str]:
        return {"device.kind": self.kind, "device.names": ", ".join(self.names) or "cpu",
                "device.mixed_precision": str(self.mixed_precision).lower()}


def wants_mixed_precision(setting: str, capabilities: list[tuple[int, int]]) -> bool:
    """'on' always, 'off' never, 'auto' when every visible GPU has tensor cores. Pure."""
    if setting == "on":
        return True
    if setting == "off" or not capabilities:
        return False
    return all(tuple(c) >= MIXED_PRECISION_MIN_CAPABILITY for c in capabilities)


def visible_gpu_ids() -> list[str]:
    """The CUDA ids of the GPUs this process sees, as its children would name them in CUDA_VISIBLE_DEVICES
    (a worker started with CUDA_VISIBLE_DEVICES=2,3 hands out 2 and 3, not 0 and 1)."""
    import os

    import tensorflow as tf

    count = len(tf.config.list_physical_devices("GPU"))
    listed = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return listed[:count] if listed else [str(i) for i in range(count)]


def configure_devices(mixed_precision: str = "auto", deterministic: bool = False) -> DeviceInfo:
    """Set memory growth on every visible GPU, the Keras dtype policy and (if asked) deterministic ops;
    say what was found."""
    import keras
    import tensorflow as tf

    if deterministic:
        # Same seed, same kernels, same order of reductions: identical numbers run after run (GPUs too).
        tf.config.experimental.enable_op_determinism()

    gpus = tf.config.list_physical_devices("GPU")
    names, capabilities = [], []
    for gpu in gpus:
        try:
            # Grab memory as needed instead of all of it at start, so a worker's other processes still fit.
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # the runtime is already initialized; growth was set by the first call in this process
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
        capabilities.append(tuple(details.get("compute_capability", (0, 0))))
    enabled = wants_mixed_precision(mixed_precision, capabilities)
    keras.mixed_precision.set_global_policy("mixed_float16" if enabled else "float32")
    return DeviceInfo(kind="gpu" if gpus else "cpu", names=tuple(names), mixed_precision=enabled)
