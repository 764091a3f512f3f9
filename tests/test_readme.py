"""The README's three nights run as written: train, skip, retrain and gate (in a folder of their own, with the
checkout's .venv beside them, a tracking store of their own and the suite's Prefect API)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def walkthrough() -> str:
    section = (ROOT / "README.md").read_text().split("## Retrain every night on your data", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_three_nights_train_skip_and_retrain(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    store = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    (tmp_path / "mlruns").mkdir()
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run(["bash", "-e", "-c", walkthrough()], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    nights = done.stdout.split("experiment:      nightly")
    assert "wine-nightly version 1" in done.stdout and "-> champion (first registered model)" in done.stdout
    assert re.search(r"no change: the rows \(digest \w{16}\), code and config are those of pipeline run \w{32}; "
                     r"nothing was trained", done.stdout), done.stdout[-3000:]
    assert "wine-nightly version 2" in done.stdout and len(nights) == 3  # nights 1 and 3 print their summary
    client = MlflowClient(store)
    first, second = (client.get_model_version("wine-nightly", v) for v in ("1", "2"))
    assert first.tags["data.digest"] != second.tags["data.digest"]  # night 3's rows are not night 1's
    assert second.tags["data.source"] == "sqlite:///nightly.db table events"
    # Night 3's model was compared with night 1's champion, on night 3's test rows.
    experiment = client.get_experiment_by_name("nightly").experiment_id
    (compared,) = client.search_runs([experiment], "tags.`evaluation.of` = 'champion'")
    assert compared.data.tags["champion.version"] == "1"
