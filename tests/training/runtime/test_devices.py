import sys

import pytest

from tests.support import run_side_by_side
from training.runtime.devices import wants_mixed_precision


def test_mixed_precision_policy():
    assert wants_mixed_precision("on", []) is True
    assert wants_mixed_precision("off", [(9, 0)]) is False
    assert wants_mixed_precision("auto", []) is False  # CPU
    assert wants_mixed_precision("auto", [(9, 0)]) is True  # H100/H200
    assert wants_mixed_precision("auto", [(8, 0), (6, 1)]) is False  # one old GPU in sight


SCRIPT = """
import numpy as np, keras, training
from training.runtime.devices import configure_devices
from training.model.build import build_model
from training.model.spec import ModelSpec
info = configure_devices({setting!r})
model = build_model(ModelSpec(units=(8,), batchnorm=True), 4, "classification", 3)
history = model.fit(np.random.rand(32, 4).astype("float32"), np.arange(32) % 3, epochs=1, verbose=0).history
images, labels = np.random.randint(0, 255, (32, 8, 8, 1)).astype("uint8"), np.arange(32) % 3
cnn = build_model(ModelSpec(family="cnn", units=(4, 8), batchnorm=True), (8, 8, 1), "classification", 3)
cnn_loss = cnn.fit(images, labels, epochs=1, verbose=0).history["loss"][0]
user = build_model(ModelSpec(family={user_model!r}, units=(8,)), (8, 8, 1), "classification", 3)
user_loss = user.fit(images, labels, epochs=1, verbose=0).history["loss"][0]
print(info.kind, info.mixed_precision, keras.mixed_precision.global_policy().name, model.output.dtype,
      model.get_layer("block1_dense").compute_dtype, np.isfinite(history["loss"][0]),
      cnn.output.dtype, cnn.get_layer("conv1_conv").compute_dtype, np.isfinite(cnn_loss),
      user.output.dtype, np.isfinite(user_loss))
"""


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> dict[str, list[str]]:
    """Each setting in a fresh process (the dtype policy is global to a process), both side by side: the MLP,
    the CNN and the documented build function (docs/data-and-models.md)."""
    from tests.training.model.test_families import readme_example

    code = tmp_path_factory.mktemp("user-model") / "my_model.py"
    code.write_text(readme_example())
    settings = ("auto", "on")
    done = run_side_by_side([[sys.executable, "-c", SCRIPT.format(setting=setting, user_model=f"{code}:build")]
                             for setting in settings])
    assert [code for code, _ in done] == [0, 0]
    return {setting: out.split() for setting, (_, out) in zip(settings, done, strict=True)}


def test_cpu_auto_trains_in_float32(policies):
    assert policies["auto"] == ["cpu", "False", "float32", "float32", "float32", "True", "float32", "float32", "True",
                                "float32", "True"]


def test_mixed_precision_on_the_cpu_path_keeps_a_float32_head(policies):
    # float16 compute in the blocks (Dense, Conv2D, the user's layers), a float32 softmax head on every family.
    assert policies["on"] == ["cpu", "True", "mixed_float16", "float32", "float16", "True", "float32", "float16",
                              "True", "float32", "True"]


DETERMINISTIC = """
import json, training
from training.config import Selection
from training.data.tables import load_dataset
from training.runtime.devices import configure_devices
from training.method.fit import fit
from training.model.spec import ModelSpec
from training.data.split import make_split
configure_devices("off", deterministic=True)
split = make_split(load_dataset("wine"), (0.64, 0.16, 0.2), seed=3)
result = fit(ModelSpec(units=(16, 8), dropout=0.2, batchnorm=True, epochs=3), split, Selection("val_accuracy", "max"),
             seed=11)
print(json.dumps([split.fingerprint, result.history]))
"""


@pytest.mark.slow
def test_deterministic_runs_repeat_every_logged_digit():
    # Two separate processes, as two nightly runs would be.
    # Side by side: each uses its own share of the cores, which deterministic ops must not notice.
    done = run_side_by_side([[sys.executable, "-c", DETERMINISTIC]] * 2, timeout=600)
    assert [code for code, _ in done] == [0, 0]
    runs = [out for _, out in done]
    assert runs[0] == runs[1] and '"val_accuracy"' in runs[0]
