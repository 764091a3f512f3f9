"""No secret from the environment ends up in MLflow: params, tags, metrics, artifacts, registry."""

from pathlib import Path

import pytest

from tests.conftest import SECRETS

pytestmark = pytest.mark.e2e


def test_no_secret_of_the_environment_is_recorded(quick_pipeline, tmp_path):
    client, secrets = quick_pipeline.client, [value.encode() for value in SECRETS.values()]
    experiment = client.get_experiment_by_name("pipeline-test").experiment_id
    runs = client.search_runs([experiment])
    # At least the whole tree of the quick pipeline: its run, the split, each stage with what it trained, the
    # promotion (other tests may add runs; the adaptive strategy trains fewer than the grid did).
    stages = quick_pipeline.result.stages
    assert len(runs) >= 3 + sum(1 + len(s.candidates) - len(s.reused) for s in stages)
    texts = []
    for run in runs:
        texts += [*run.data.params.values(), *run.data.tags.values(), *run.data.metrics]
        folder = tmp_path / run.info.run_id
        client.download_artifacts(run.info.run_id, "", str(folder))
        files = [p for p in Path(folder).rglob("*") if p.is_file()]
        for path in files:
            content = path.read_bytes()
            assert not any(secret in content for secret in secrets), path
    for model in client.search_registered_models():
        texts += [model.description or "", *model.tags.values()]
        for version in client.search_model_versions(f"name = '{model.name}'"):
            texts += [version.description or "", *version.tags.values(), version.source]
    joined = "\n".join(map(str, texts)).encode()
    assert not any(secret in joined for secret in secrets)

