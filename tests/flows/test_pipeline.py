"""The quick pipeline under a temporary Prefect API, checked through MlflowClient."""

import mlflow
import numpy as np
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline_run(quick_pipeline):
    return quick_pipeline.result, quick_pipeline.client, quick_pipeline.uri


STAGES = ["baseline", "capacity", "regularization", "schedule", "tuning"]


def trained(stage) -> list[str]:
    """The candidates a stage trained itself (an adaptive stage reuses its incoming winner as its base)."""
    return [c.name for c in stage.candidates if c.name not in stage.reused]


def tree_runs(client, pipeline_run_id: str) -> list:
    """The pipeline run and every run below it (other tests may add runs to the same experiment)."""
    experiment = client.get_run(pipeline_run_id).info.experiment_id
    runs = client.search_runs([experiment], max_results=5000)
    children: dict[str, list] = {}
    for run in runs:
        children.setdefault(run.data.tags.get("mlflow.parentRunId"), []).append(run)
    found, todo = [], [pipeline_run_id]
    while todo:
        parent = todo.pop()
        found += children.get(parent, [])
        todo += [r.info.run_id for r in children.get(parent, [])]
    return [client.get_run(pipeline_run_id), *found]


def test_run_tree(pipeline_run):
    result, client, _ = pipeline_run
    runs = tree_runs(client, result.pipeline_run_id)
    # Promotion runs: the pipeline's own, and any that tests/flows/test_promotion.py adds to this pipeline run
    # (a failed registration there is FAILED on purpose).
    assert all(r.info.status == "FINISHED" for r in runs if r.data.tags.get("stage") != "promotion")
    pipeline = runs[0]
    assert pipeline.data.tags["stage"] == "pipeline"
    assert pipeline.data.tags["data.fingerprint"] == result.fingerprint
    assert pipeline.data.tags["prefect.flow_run_id"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == result.pipeline_run_id]
    promotions = [r for r in children if r.data.tags["stage"] == "promotion"]
    assert result.promotion.version == "1" and len(promotions) >= 1
    assert sorted(r.data.tags["stage"] for r in children if r not in promotions) == sorted(["split", "validation",
                                                                                             *STAGES])
    # The first night has no champion to be compared with: recorded as passed, with the reason.
    assert pipeline.data.tags["data_validation.status"] == "passed"
    assert pipeline.data.tags["data_validation.reference"] == "none"
    results = {s.stage: s for s in result.stages}
    for stage in children:
        if stage.data.tags["stage"] in ("split", "validation", "promotion"):
            continue
        name = stage.data.tags["stage"]
        below = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == stage.info.run_id]
        candidates = [r for r in below if r.data.tags["kind"] == "candidate"]
        assert sorted(r.info.run_name for r in candidates) == sorted(trained(results[name])), name
        assert all(r.data.tags["stage"] == name for r in below)
        assert all(r.data.tags["diagnosis.regime"] for r in below)
        trials = [r for r in below if r.data.tags["kind"] == "trial"]
        assert (len(trials) > 0) == (name == "tuning")
    trials = [r for r in runs if r.data.tags.get("kind") == "trial"]
    # A promotion that found a champion evaluated it in a child run of its own.
    evaluations = [r for r in runs if r.data.tags.get("evaluation.of") == "champion"]
    promotion_ids = {r.info.run_id for r in promotions}
    assert all(r.data.tags["mlflow.parentRunId"] in promotion_ids for r in evaluations)
    # pipeline, split, validation, each stage with its candidates, the trials, the promotions
    assert len(runs) == (1 + 1 + 1 + sum(1 + len(trained(s)) for s in result.stages) + len(trials) + len(promotions)
                         + len(evaluations))


def test_each_stage_follows_the_diagnosis_keeps_only_gains_beyond_noise_and_starts_the_next(pipeline_run):
    result, client, _ = pipeline_run
    assert [s.stage for s in result.stages] == STAGES
    for stage in result.stages[1:]:  # the adaptive strategy (the default) from the capacity stage on
        run = client.get_run(stage.run_id)
        assert run.data.tags["strategy"] == "adaptive" and run.data.params["strategy"] == "adaptive"
        assert run.data.tags["winner"] == stage.winner.name
        assert run.data.tags["verdict"] == stage.story and stage.story
        assert run.data.metrics["noise_margin"] == pytest.approx(stage.margin) and stage.margin > 0
        # The base is the incoming winner, not retrained: its run is the previous stage's.
        assert stage.reused == ("base",)
        assert stage.reference_result.run_id == result.stages[result.stages.index(stage) - 1].winner.run_id
        for name in trained(stage):  # every step says, on its own run, why it was kept or not
            candidate = next(c for c in stage.candidates if c.name == name)
            assert client.get_run(candidate.run_id).data.tags["decision"] == stage.decisions[name]
        winner_kept = stage.winner.name == "base" or stage.decisions[stage.winner.name].endswith(": kept")
        assert winner_kept, stage.decisions
    # The first step reads the baseline's diagnosis: grow an underfitting base, shrink an overfitting one.
    capacity, regime = result.stages[1], result.stages[0].winner.diagnosis.regime
    opening = {"underfitting": "underfitting: grow the network", "overfitting": "overfitting: shrink the network",
               "good fit": "good fit: one step each way"}[regime]
    assert capacity.story.startswith(opening)
    for previous, stage in zip(result.stages, result.stages[1:], strict=False):
        base = next(c for c in stage.candidates if c.name == "base")
        assert base.spec.units == previous.winner.spec.units
        assert base.spec.dropout == previous.winner.spec.dropout
    pipeline = client.get_run(result.pipeline_run_id)
    assert pipeline.data.tags["story"].splitlines() == [f"{s.stage}: {s.story}" for s in result.stages[1:]]
    assert pipeline.data.tags["selected.run_id"] == result.stages[-1].winner.run_id


def test_stage_run_has_comparison_table_and_overlaid_curves(pipeline_run):
    result, client, _ = pipeline_run
    capacity = result.stages[1]
    paths = {a.path for a in client.list_artifacts(capacity.run_id)} | {
        a.path for a in client.list_artifacts(capacity.run_id, "plots")}
    assert {"comparison.csv", "comparison.md", "plots/validation_curves.png"} <= paths
    table = client.download_artifacts(capacity.run_id, "comparison.csv")
    import pandas as pd

    frame = pd.read_csv(table)
    assert sorted(frame["variant"]) == sorted(c.name for c in capacity.candidates)
    assert list(frame["val_accuracy"]) == sorted(frame["val_accuracy"], reverse=True)  # best first
    assert frame.loc[frame["winner"] == "yes", "variant"].tolist() == [capacity.winner.name]
    decisions = dict(zip(frame["variant"], frame["decision"], strict=True))
    assert decisions["base"] == "incoming winner, trained in the previous stage"
    assert all(decisions[name] == capacity.decisions[name] for name in trained(capacity))


def test_tuning_stage_records_its_search(pipeline_run, tmp_path):
    import json

    result, client, _ = pipeline_run
    tuning = result.stages[-1]
    summary = json.loads(open(client.download_artifacts(tuning.run_id, "search/summary.json", str(tmp_path))).read())
    trials = client.search_runs([client.get_run(tuning.run_id).info.experiment_id],
                                f"tags.mlflow.parentRunId = '{tuning.run_id}' and tags.kind = 'trial'")
    assert summary["tuner"] == "hyperband" and summary["trials"] == len(trials)
    assert summary["epochs"] == client.get_run(tuning.run_id).data.metrics["trial_epochs"]
    assert {a.path for a in client.list_artifacts(tuning.run_id, "plots")} >= {"plots/score_per_trial.png"}


def test_prefect_markdown_artifacts(pipeline_run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as prefect:
        artifacts = prefect.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[f"{stage}-comparison" for stage in STAGES])))
    assert {a.key for a in artifacts} == {f"{stage}-comparison" for stage in STAGES}
    assert all("#/experiments/" in a.data for a in artifacts)


def test_split_run_records_the_data(pipeline_run):
    result, client, _ = pipeline_run
    (split,) = client.search_runs([client.get_experiment_by_name("pipeline-test").experiment_id],
                                  f"tags.stage = 'split' and tags.mlflow.parentRunId = '{result.pipeline_run_id}'")
    assert split.data.metrics["rows_train"] == 1151
    assert split.data.metrics["rows_val"] == 287
    assert split.data.metrics["rows_test"] == 359
    assert split.data.params["fingerprint"] == result.fingerprint
    assert split.data.tags["data.digest"] == result.data_digest and len(result.data_digest) == 64
    assert split.data.tags["data.source"] == "sklearn.datasets.load_digits"
    paths = {a.path for a in client.list_artifacts(split.info.run_id, "split")}
    assert paths == {"split/summary.json"}


def datasets_of(run) -> dict[str, tuple[str, str]]:
    """context -> (name, digest) of a run's logged datasets."""
    return {next(t.value for t in d.tags if t.key == "mlflow.data.context"): (d.dataset.name, d.dataset.digest)
            for d in run.inputs.dataset_inputs}


def test_every_run_that_touched_the_data_names_its_rows_and_one_search_finds_them(pipeline_run):
    """The split run logs its three splits, every candidate and trial the two it trained and was judged on, the
    promotion and the champion's evaluation the test rows; the registered version names the data."""
    import json

    from flows.tasks import prepare_data
    from training.config import PipelineConfig

    result, client, uri = pipeline_run
    split = prepare_data.fn(PipelineConfig(profile="quick")).split
    digests = {context: ("digits", split.split_digests[name][:32])
               for name, context in (("train", "training"), ("val", "validation"), ("test", "test"))}
    runs = tree_runs(client, result.pipeline_run_id)
    by_stage = {}
    for run in runs:
        by_stage.setdefault((run.data.tags.get("stage"), run.data.tags.get("kind")), []).append(run)
    (split_run,) = by_stage[("split", None)]
    assert datasets_of(split_run) == digests
    trained_on = [r for key, rs in by_stage.items() if key[1] in ("candidate", "trial") for r in rs]
    assert trained_on and all(datasets_of(r) == {k: digests[k] for k in ("training", "validation")}
                              for r in trained_on)
    promotion = next(r for r in by_stage[("promotion", None)]
                     if r.data.tags.get("registered.version") == result.promotion.version)
    assert datasets_of(promotion)["test"] == digests["test"]
    profile = json.loads(next(d.dataset.profile for d in split_run.inputs.dataset_inputs
                              if d.dataset.digest == digests["training"][1]))
    assert profile["rows"] == 1151 and profile["sha256"] == split.split_digests["train"]
    assert sum(profile["class_counts"].values()) == 1151 and profile["data_sha256"] == result.data_digest
    # "Which runs trained on tonight's rows" is one search.
    mlflow.set_tracking_uri(uri)
    found = mlflow.search_runs(experiment_ids=[split_run.info.experiment_id], filter_string=(
        f"dataset.digest = '{digests['training'][1]}' and dataset.context = 'training'"))
    assert {r.info.run_id for r in trained_on} | {split_run.info.run_id} <= set(found["run_id"])
    version = client.get_model_version(result.promotion.model_name, result.promotion.version)
    assert (version.tags["data.digest"], version.tags["data.source"]) == (result.data_digest,
                                                                         "sklearn.datasets.load_digits")
    assert f"content digest of every row read (sha256): `{result.data_digest}`" in version.description


def test_candidate_has_spec_curves_diagnosis_and_model(pipeline_run):
    result, client, uri = pipeline_run
    candidate = result.stages[0].winner
    run = client.get_run(candidate.run_id)
    assert run.data.params["units"] == "128-64"
    # The capacity winner hands on the network its name stands for, and MLflow recorded that network.
    capacity = result.stages[1].winner
    if capacity.name.startswith("units-"):
        assert capacity.name == "units-" + "-".join(map(str, capacity.spec.units))
    assert client.get_run(capacity.run_id).data.params["units"] == "-".join(map(str, capacity.spec.units))
    assert run.data.params["epochs"] == "3"
    assert run.data.params["dropout"] == "0.0"
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"):
        history = client.get_metric_history(candidate.run_id, key)
        assert sorted(m.step for m in history) == [1, 2, 3], key
    assert run.data.metrics["fit_seconds"] > 0
    assert run.data.metrics["best_epoch"] == candidate.diagnosis.best_epoch
    assert run.data.tags["diagnosis.regime"] in {"underfitting", "overfitting", "good fit"}
    assert run.data.tags["stage"] == "baseline"
    assert {a.path for a in client.list_artifacts(candidate.run_id, "plots")} == {"plots/learning_curves.png"}

    mlflow.set_tracking_uri(uri)
    model = mlflow.keras.load_model(candidate.model_uri)
    from flows.tasks import prepare_data
    from training.config import PipelineConfig

    split = prepare_data.fn(PipelineConfig(profile="quick")).split
    probabilities = model.predict(split.x_val, verbose=0)
    assert probabilities.shape == (287, 10)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == split.y_val))
    assert accuracy == pytest.approx(run.data.metrics["model_val_accuracy"], abs=1e-6)
