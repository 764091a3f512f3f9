"""A failed pipeline run continues where it stopped: by a Prefect retry of its flow run, or `run --resume RUN`."""

import pytest
from mlflow import MlflowClient

import flows.tasks
from flows.__main__ import main
from flows.pipeline import training_pipeline

pytestmark = pytest.mark.e2e

SMALL = dict(profile="quick", capacity_units=[[16]], dropout_rates=[0.5], schedule_variants=["early-stopping"],
             tuner="random", max_trials=1)


@pytest.fixture
def fail_once_in_schedule_stage(monkeypatch):
    """The schedule stage's early-stopping candidate fails on its first fit; every fit is counted by stage."""
    real_fit, fits = flows.tasks.fit, []

    def fit(spec, *args, **kwargs):
        fits.append(spec)
        if spec.early_stopping and not any(f.early_stopping for f in fits[:-1]):
            raise RuntimeError("injected failure in the schedule stage")
        return real_fit(spec, *args, **kwargs)

    monkeypatch.setattr(flows.tasks, "fit", fit)
    return fits


def stage_runs(client, pipeline_run_id):
    experiment = client.get_run(pipeline_run_id).info.experiment_id
    return client.search_runs([experiment], f"tags.mlflow.parentRunId = '{pipeline_run_id}'")


def assert_resumed_once(client, pipeline_run_id, fits):
    pipeline = client.get_run(pipeline_run_id)
    assert pipeline.info.status == "FINISHED"
    stages = stage_runs(client, pipeline_run_id)
    names = sorted(r.info.run_name for r in stages)
    # One run per stage: finished ones reused, the failed one reopened, none duplicated.
    assert names == sorted(["split", "baseline", "capacity", "regularization", "schedule", "tuning", "promotion"])
    assert {r.info.status for r in stages} == {"FINISHED"}
    schedule = next(r for r in stages if r.info.run_name == "schedule")
    candidates = client.search_runs([pipeline.info.experiment_id],
                                    f"tags.mlflow.parentRunId = '{schedule.info.run_id}'")
    assert sorted(r.info.run_name for r in candidates) == ["base", "early-stopping"]  # the failed try is gone
    assert {r.info.status for r in candidates} == {"FINISHED"}
    # Between the failed early-stopping fit and its retry, only the schedule stage's base was trained again:
    # nothing of the baseline, capacity and regularization stages.
    failed_at, retried_at = [i for i, spec in enumerate(fits) if spec.early_stopping]
    assert retried_at - failed_at == 2
    assert fits[retried_at - 1] == fits[failed_at - 1]


def test_a_prefect_retry_of_the_flow_run_reuses_the_finished_stages(prefect_harness, tracking_uri, tmp_path,
                                                                     fail_once_in_schedule_stage):
    result = training_pipeline.with_options(retries=1)(
        **SMALL, tracking_uri=tracking_uri, experiment="retry-test", model_name="retry-test",
        work_dir=str(tmp_path / "work"))
    client = MlflowClient(tracking_uri)
    pipelines = client.search_runs([client.get_experiment_by_name("retry-test").experiment_id],
                                   "tags.stage = 'pipeline'")
    assert [r.info.run_id for r in pipelines] == [result.pipeline_run_id]  # the retry continued the same run
    assert_resumed_once(client, result.pipeline_run_id, fail_once_in_schedule_stage)
    assert result.promotion.version == "1"


def test_run_resume_continues_a_failed_run_and_refuses_what_it_cannot_resume(prefect_harness, tracking_uri,
                                                                             tmp_path, capsys,
                                                                             fail_once_in_schedule_stage):
    options = dict(**SMALL, tracking_uri=tracking_uri, experiment="resume-test", model_name="resume-test",
                   work_dir=str(tmp_path / "work"))
    with pytest.raises(RuntimeError, match="injected failure"):
        training_pipeline(**options)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("resume-test").experiment_id
    (failed,) = client.search_runs([experiment], "tags.stage = 'pipeline'")
    assert failed.info.status == "FAILED"
    run_id = failed.info.run_id

    # Another config would reuse stages trained with this one: refused, naming the difference.
    with pytest.raises(ValueError, match=r"another config \(seed: 42 -> 7\)"):
        training_pipeline(**{**options, "seed": 7}, resume=run_id)
    assert client.get_run(run_id).info.status == "FAILED"

    assert main(["run", "--resume", run_id, "--tracking-uri", tracking_uri]) == 0
    assert_resumed_once(client, run_id, fail_once_in_schedule_stage)
    assert str(client.get_model_version_by_alias("resume-test", "champion").version) == "1"

    capsys.readouterr()
    assert main(["run", "--resume", run_id, "--tracking-uri", tracking_uri]) == 2
    assert "finished; there is nothing to resume" in capsys.readouterr().err
    assert main(["run", "--resume", "0" * 32, "--tracking-uri", tracking_uri]) == 2
    assert f"no MLflow run '{'0' * 32}'" in capsys.readouterr().err
    split_run = next(r for r in stage_runs(client, run_id) if r.info.run_name == "split").info.run_id
    assert main(["run", "--resume", split_run, "--tracking-uri", tracking_uri]) == 2
    assert "'split' run, not a pipeline run" in capsys.readouterr().err
