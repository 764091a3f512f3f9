"""Images through every stage: a folder of PNG files trains a CNN champion that predicts a folder of new images,
and a build function written from the documented contract (docs/data-and-models.md: a residual network with a
custom layer) goes through every stage to a champion that serves where its file is gone."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from flows.__main__ import main
from tests.conftest import run_pipeline
from training.serving.images import png_bytes, to_base64

CLASSES = ("dark", "bright", "striped")
STAGES = ["baseline", "capacity", "regularization", "schedule", "tuning"]
# Every stage, each as small as it goes: one more network, one dropout rate, one schedule, one trial.
SMALL = {"profile": "quick", "capacity_units": [[8, 16]], "dropout_rates": [0.2],
         "schedule_variants": ["early-stopping"], "tuner": "random", "max_trials": 1}


def pattern(kind: str, rng) -> np.ndarray:
    """An 8x8 grayscale image of its class, with noise: the three classes are easy to tell apart."""
    base = {"dark": np.full((8, 8), 40.0), "bright": np.full((8, 8), 210.0),
            "striped": np.tile([[30.0], [220.0]], (4, 8))}[kind]
    return np.clip(base + rng.normal(0, 25, (8, 8)), 0, 255).astype("uint8")


def write_images(root: Path, per_class: int, seed: int, class_folders: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        folder = root / kind if class_folders else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{kind}-{i}.png").write_bytes(png_bytes(pattern(kind, rng)))
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_images(tmp_path_factory.mktemp("images") / "patterns", per_class=16, seed=0)


@pytest.fixture(scope="module")
def cnn_pipeline(prefect_harness, tmp_path_factory, folder):
    # From disk (image_memory_mb 0): the streamed path through every stage; the user model's run decodes the
    # same folder into memory.
    return run_pipeline(tmp_path_factory, "images", data=str(folder), **SMALL, image_memory_mb=0,
                        experiment="images-test", model_name="patterns-cnn")


@pytest.fixture(scope="module")
def user_pipeline(prefect_harness, tmp_path_factory, folder):
    from tests.training.model.test_families import readme_example

    code = tmp_path_factory.mktemp("user-model") / "my_residual_model.py"
    code.write_text(readme_example())
    pipeline = run_pipeline(tmp_path_factory, "user-model", data=str(folder), model=f"{code}:build",
                            **{**SMALL, "capacity_units": None}, experiment="user-model-test",
                            model_name="patterns-residual")
    code.unlink()  # the registered model must carry the file, not find it where it was
    return pipeline


def candidate_runs(pipeline):
    experiment = pipeline.client.get_experiment_by_name(pipeline.options["experiment"])
    return pipeline.client.search_runs([experiment.experiment_id], "tags.kind = 'candidate'")


def test_a_folder_of_png_files_trains_a_cnn_champion(cnn_pipeline):
    result = cnn_pipeline.result
    assert [s.stage for s in result.stages] == STAGES
    assert result.promotion.alias == "champion"
    assert {run.data.params["family"] for run in candidate_runs(cnn_pipeline)} == {"cnn"}
    assert "filters" in result.stages[0].winner.spec.describe()
    promotion_run = cnn_pipeline.client.get_run(cnn_pipeline.client.get_model_version(
        cnn_pipeline.model_name, result.promotion.version).run_id)
    artifacts = [a.path for a in cnn_pipeline.client.list_artifacts(promotion_run.info.run_id, "evaluation")]
    assert "evaluation/sample_images.png" in artifacts


def test_the_cnn_champion_predicts_a_folder_of_new_images(cnn_pipeline, tmp_path, capsys):
    new = write_images(tmp_path / "new", per_class=3, seed=7, class_folders=False)
    out = tmp_path / "predictions.csv"
    code = main(["predict", "--data", str(new), "--model-name", cnn_pipeline.model_name, "--out", str(out),
                 "--tracking-uri", cnn_pipeline.uri])
    assert code == 0, capsys.readouterr().err[-3000:]
    predictions = pd.read_csv(out)
    assert predictions.columns.tolist() == ["path", "prediction", *(f"proba_{c}" for c in sorted(CLASSES))]
    assert sorted(Path(p).name for p in predictions["path"]) == sorted(f.name for f in new.iterdir())
    truth = [Path(p).name.split("-")[0] for p in predictions["path"]]
    assert np.mean(predictions["prediction"] == truth) >= 2 / 3  # nine easy images: learnt, not guessed


def test_a_folder_with_a_corrupt_image_fails_before_any_run(prefect_harness, tmp_path, capsys):
    root = write_images(tmp_path / "bad", per_class=4, seed=1)
    (root / "dark" / "dark-2.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = main(["run", "--data", str(root), "--profile", "quick", "--tracking-uri", uri])
    assert code == 2
    assert re.search(r"dark/dark-2.png: not a readable PNG or JPEG image", capsys.readouterr().err)
    assert mlflow.MlflowClient(uri).search_experiments(filter_string="name = 'keras-mlops'") == []


def test_a_build_function_from_the_readme_goes_through_every_stage(user_pipeline):
    result = user_pipeline.result
    assert [s.stage for s in result.stages] == STAGES
    assert result.promotion.alias == "champion"
    families = {run.data.params["family"] for run in candidate_runs(user_pipeline)}
    assert len(families) == 1 and families.pop().endswith("my_residual_model.py:build")
    # The function declares units, dropout and activation: regularization never tries l2 or batch normalization.
    regularization = result.stages[2]
    assert not [c.name for c in regularization.candidates if c.spec.l2 or c.spec.batchnorm]
    assert "declares no l2, batchnorm knob" in regularization.story


def test_the_user_models_champion_serves_in_a_process_of_its_own(user_pipeline, tmp_path):
    """`mlflow models predict` in a new process, in an empty folder: the custom layer's file is gone from where
    it was written, so only the copy the registered model carries can define it."""
    rng = np.random.default_rng(3)
    rows = [{"image": to_base64(png_bytes(pattern(kind, rng)))} for kind in CLASSES]
    (tmp_path / "rows.json").write_text(json.dumps({"dataframe_records": rows}))
    bin_dir = os.path.dirname(sys.executable)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(MLFLOW_TRACKING_URI=user_pipeline.uri, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    done = subprocess.run(
        [os.path.join(bin_dir, "mlflow"), "models", "predict", "-m", f"models:/{user_pipeline.model_name}@champion",
         "-i", str(tmp_path / "rows.json"), "-t", "json", "-o", str(tmp_path / "out.json"), "--env-manager", "local"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    served = pd.DataFrame(json.loads((tmp_path / "out.json").read_text())["predictions"])
    assert len(served) == 3 and set(served["prediction"]) <= set(CLASSES)
    assert served[[f"proba_{c}" for c in sorted(CLASSES)]].sum(axis=1).round(4).tolist() == [1.0, 1.0, 1.0]


def test_the_image_size_option_resizes_every_image(folder):
    from flows.tasks import prepare_data
    from training.config import PipelineConfig

    split = prepare_data.fn(PipelineConfig(data=str(folder), image_size=[4, 5])).split
    assert split.input_shape == (4, 5, 1)


def test_a_cnn_with_augmentation_layers_registers_and_serves_images_as_they_are_in_a_virtualenv(folder, tmp_path):
    """The augmentation rung's network as the registry gets it: logged as the served pyfunc, registered, and
    predicted by `mlflow models predict` in a fresh virtualenv (uv) built from its own requirements. The random
    layers act in training only, so it answers as the same weights without them."""
    from flows.tasks import prepare_data
    from training.config import PipelineConfig
    from training.model.build import build_model
    from training.model.spec import ModelSpec
    from training.serving.predict import predict_frame
    from training.tracking.models import log_serving_model
    from training.tracking.runs import Tracker

    split = prepare_data.fn(PipelineConfig(data=str(folder))).split
    classes = len(split.preprocessor.classes)
    spec = ModelSpec(family="cnn", units=(8, 16), augment=0.3,
                     augment_transforms=("rotation", "translation", "zoom", "contrast", "flip"))
    augmented = build_model(spec, split.input_shape, "classification", classes, seed=5)
    assert [layer.name for layer in augmented.layers if layer.name.startswith("augment_")]
    plain = build_model(ModelSpec(family="cnn", units=(8, 16)), split.input_shape, "classification", classes, seed=5)
    plain.set_weights(augmented.get_weights())
    rows = next(split.test_inputs(rows=4))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = Tracker(uri, "augmented-serving")
    with tracker.run("promotion") as run_id:
        serving_uri = log_serving_model(tracker, run_id, augmented, split.preprocessor, rows)
    client = mlflow.MlflowClient(uri)
    client.create_registered_model("augmented-cnn")
    version = client.create_model_version("augmented-cnn", serving_uri, run_id)
    (tmp_path / "rows.json").write_text(json.dumps({"dataframe_records": rows.to_dict(orient="records")}))
    bin_dir = os.path.dirname(sys.executable)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(MLFLOW_TRACKING_URI=uri, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    done = subprocess.run(
        [os.path.join(bin_dir, "mlflow"), "models", "predict", "-m", f"models:/augmented-cnn/{version.version}",
         "-i", str(tmp_path / "rows.json"), "-t", "json", "-o", str(tmp_path / "out.json"), "--env-manager", "uv"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "virtualenv_envs/mlflow-" in done.stderr, done.stderr[-3000:]
    served = pd.DataFrame(json.loads((tmp_path / "out.json").read_text())["predictions"])
    expected = predict_frame(plain, split.preprocessor, rows)
    probabilities = [c for c in served.columns if c.startswith("proba_")]
    assert len(probabilities) == classes
    np.testing.assert_allclose(served[probabilities].to_numpy(float), expected[probabilities].to_numpy(float),
                               atol=1e-5)
    assert served["prediction"].tolist() == expected["prediction"].tolist()
