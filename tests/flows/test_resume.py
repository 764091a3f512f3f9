"""A failed pipeline run continues where it stopped: by a Prefect retry of its flow run, or `run --resume RUN`
(the session's regression pipeline goes that way: tests/conftest.py)."""

import pytest
from mlflow import MlflowClient

import training.tracking.candidates
from flows.__main__ import main
from flows.pipeline import training_pipeline

pytestmark = pytest.mark.e2e

SMALL = dict(data="iris", profile="quick", capacity_units=[[16]], dropout_rates=[0.5],
             schedule_variants=["early-stopping"], tuner="random", max_trials=1)


def stage_runs(client, pipeline_run_id):
    experiment = client.get_run(pipeline_run_id).info.experiment_id
    return client.search_runs([experiment], f"tags.mlflow.parentRunId = '{pipeline_run_id}'")


def assert_resumed_once(client, pipeline_run_id, fits):
    pipeline = client.get_run(pipeline_run_id)
    assert pipeline.info.status == "FINISHED"
    stages = stage_runs(client, pipeline_run_id)
    names = sorted(r.info.run_name for r in stages)
    # One run per stage: finished ones reused, the failed one reopened, none duplicated.
    assert names == sorted(["split", "validation", "baseline", "capacity", "regularization", "schedule", "tuning",
                            "promotion"])
    assert {r.info.status for r in stages} == {"FINISHED"}
    schedule = next(r for r in stages if r.info.run_name == "schedule")
    candidates = client.search_runs([pipeline.info.experiment_id],
                                    f"tags.mlflow.parentRunId = '{schedule.info.run_id}'")
    # The failed try is gone; the stage's base is the incoming winner, reused, not a run of its own.
    assert sorted(r.info.run_name for r in candidates) == ["early-stopping"]
    assert {r.info.status for r in candidates} == {"FINISHED"}
    # Between the failed early-stopping fit and its retry nothing was trained again: not the baseline, capacity
    # and regularization stages, and not the schedule stage's base.
    failed_at, retried_at = [i for i, spec in enumerate(fits) if spec.early_stopping]
    assert retried_at - failed_at == 1


def test_a_prefect_retry_of_the_flow_run_continues_its_pipeline_run(prefect_harness, tracking_uri, tmp_path,
                                                                   monkeypatch):
    real_fit, fits = training.tracking.candidates.fit, []

    def fit(spec, *args, **kwargs):  # the baseline trains; every later fit fails (the capacity stage's first)
        fits.append(spec)
        if len(fits) > 1:
            raise RuntimeError(f"injected failure in fit {len(fits)}")
        return real_fit(spec, *args, **kwargs)

    monkeypatch.setattr(training.tracking.candidates, "fit", fit)
    # The retry got as far as the capacity stage again without training the baseline again: fit 3, not 4.
    with pytest.raises(RuntimeError, match="injected failure in fit 3"):
        training_pipeline.with_options(retries=1)(
            **SMALL, tracking_uri=tracking_uri, experiment="retry-test", model_name="retry-test",
            work_dir=str(tmp_path / "work"))
    client = MlflowClient(tracking_uri)
    # The retry continued the pipeline run of the first attempt: split and baseline reused, capacity reopened.
    (pipeline,) = client.search_runs([client.get_experiment_by_name("retry-test").experiment_id],
                                     "tags.stage = 'pipeline'")
    assert pipeline.info.status == "FAILED"
    stages = stage_runs(client, pipeline.info.run_id)
    assert sorted(r.info.run_name for r in stages) == ["baseline", "capacity", "split", "validation"]
    status = {r.info.run_name: r.info.status for r in stages}
    assert status == {"split": "FINISHED", "validation": "FINISHED", "baseline": "FINISHED", "capacity": "FAILED"}
    capacity = next(r for r in stages if r.info.run_name == "capacity")
    candidates = client.search_runs([pipeline.info.experiment_id],
                                    f"tags.mlflow.parentRunId = '{capacity.info.run_id}'")
    assert len(candidates) == 1  # the first attempt's failed candidate run was replaced, not kept beside it
    assert fits[2] == fits[1]  # the same capacity candidate, tried again


def test_run_resume_continues_a_failed_run_and_refuses_another_config(regression_pipeline):
    """The regression pipeline's first attempt failed in its schedule stage; see conftest.py."""
    resumed, client = regression_pipeline.resumed, regression_pipeline.client
    assert resumed.status_after_failure == "FAILED"
    # Another config would reuse stages trained with this one: refused, naming the difference, nothing changed.
    assert "another config (seed: 42 -> 7)" in resumed.other_config_refused
    assert resumed.status_after_refusal == "FAILED"
    assert resumed.exit_code == 0
    assert regression_pipeline.result.pipeline_run_id == resumed.run_id  # continued, not a new run
    assert_resumed_once(client, resumed.run_id, resumed.fits)
    assert str(client.get_model_version_by_alias(regression_pipeline.model_name, "champion").version) == "1"


def test_run_resume_refuses_what_it_cannot_resume(regression_pipeline, capsys):
    client, uri, run_id = regression_pipeline.client, regression_pipeline.uri, regression_pipeline.resumed.run_id
    assert main(["run", "--resume", run_id, "--tracking-uri", uri]) == 2
    assert "finished; there is nothing to resume" in capsys.readouterr().err
    assert main(["run", "--resume", "0" * 32, "--tracking-uri", uri]) == 2
    assert f"no MLflow run '{'0' * 32}'" in capsys.readouterr().err
    split_run = next(r for r in stage_runs(client, run_id) if r.info.run_name == "split").info.run_id
    assert main(["run", "--resume", split_run, "--tracking-uri", uri]) == 2
    assert "'split' run, not a pipeline run" in capsys.readouterr().err
