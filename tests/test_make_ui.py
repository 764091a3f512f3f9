"""`make ui` serves the MLflow UI of a store on 127.0.0.1 (a real server, stopped after)."""

import json
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.support import free_port, wait_for_http

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def test_make_ui_serves_the_store_and_prints_the_runs_page(tracking_uri, processes, tmp_path):
    store = tracking_uri.removeprefix("sqlite:///")
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("ui-test")
    client.set_terminated(client.create_run(experiment, run_name="pipeline ui-check").info.run_id)
    port = free_port()
    log = tmp_path / "make-ui.log"
    server = processes.start(["make", "-s", "ui", f"PORT={port}", f"STORE={store}", "EXPERIMENT=ui-test"], cwd=ROOT,
                             log=log)
    assert wait_for_http(f"http://127.0.0.1:{port}/health", server).strip() == b"OK"
    link = f"http://127.0.0.1:{port}/#/experiments/{experiment}/runs"
    assert f"MLflow UI, the pipeline's runs: {link}\n" in log.read_text()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search", data=b'{"max_results": 10}',
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        names = {e["name"] for e in json.load(response)["experiments"]}
    assert "ui-test" in names
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert b"<html" in response.read().lower()

    # The printed link opens on the runs, in a real browser (MLflow's own start page is its GenAI overview).
    from tests.e2e.browser import Browser

    with Browser(tmp_path / "chromium") as browser:
        browser.open(link)
        assert "pipeline ui-check" in browser.text_once(["pipeline ui-check"])


def test_a_candidate_runs_page_shows_the_rows_it_was_trained_on(tracking_uri, processes, tmp_path):
    """The datasets a candidate logs (training.tracking.datasets), as a person sees them on its run's page: the
    data set's name, the digest of its training rows, and the contexts."""
    from tests.e2e.browser import Browser
    from training.data.split import make_split
    from training.data.tables import load_dataset
    from training.tracking.datasets import log_split_inputs
    from training.tracking.runs import Tracker

    split = make_split(load_dataset("iris"), (0.6, 0.2, 0.2), 0)
    tracker = Tracker(tracking_uri, "ui-datasets")
    with tracker.run("stage", tags={"stage": "baseline"}) as stage_run, \
            tracker.candidate_run("base", stage_run, tags={"stage": "baseline", "kind": "candidate"}) as run_id:
        log_split_inputs(split, ("training", "validation"))
    port = free_port()
    server = processes.start(["make", "-s", "ui", f"PORT={port}", f"STORE={tracking_uri.removeprefix('sqlite:///')}",
                              "EXPERIMENT=ui-datasets"], cwd=ROOT)
    wait_for_http(f"http://127.0.0.1:{port}/health", server)
    digest = split.split_digests["train"][:32]  # what MLflow keeps of the sha256 (training.data.digest)
    with Browser(tmp_path / "chromium") as browser:
        browser.open(f"http://127.0.0.1:{port}/#/experiments/{tracker.experiment_id}/runs/{run_id}")
        page = browser.text_once(["iris", digest])
    assert f"iris ({digest})" in page and "Training" in page, page[:3000]


def test_the_data_validation_report_and_drift_picture_open_on_the_validation_runs_page(tracking_uri, processes,
                                                                                        tmp_path):
    """What a person opens when a night is held: the validation run's report.json and drift.png, as the stage
    logs them (training.tracking.validation), of the wine table against a night with proline x1000."""
    from tests.e2e.browser import Browser
    from tests.training.checks.data import wine
    from training.checks.profile import numeric, profile_table
    from training.checks.validation import ValidationPolicy, validate
    from training.tracking.runs import Tracker
    from training.tracking.validation import log_validation

    night = wine()
    night["proline"] = night["proline"] * 1000
    today = profile_table(night, "cultivar", "classification")
    report = validate(profile_table(wine(), "cultivar", "classification"), today,
                      lambda column: numeric(night[column]), ValidationPolicy(), "wine version 1")
    tracker = Tracker(tracking_uri, "ui-validation")
    with tracker.run("validation", tags={"stage": "validation"}) as run_id:
        log_validation(tracker, run_id, report, today, None)
    port = free_port()
    server = processes.start(["make", "-s", "ui", f"PORT={port}", f"STORE={tracking_uri.removeprefix('sqlite:///')}",
                              "EXPERIMENT=ui-validation"], cwd=ROOT)
    wait_for_http(f"http://127.0.0.1:{port}/health", server)
    page = f"http://127.0.0.1:{port}/#/experiments/{tracker.experiment_id}/runs/{run_id}/artifacts"
    with Browser(tmp_path / "chromium") as browser:
        browser.open(f"{page}/data_validation/report.json")
        text = browser.text_once(['"status": "held"', "proline"])
        assert '"status": "held"' in text and "drift against wine version 1: proline (PSI 8.26" in text, text[:3000]
        browser.open("about:blank")  # the UI does not follow a change of the address's fragment alone
        browser.open(f"{page}/data_validation/drift.png")
        size = None
        for _ in range(120):
            # The UI draws the picture from the artifact's bytes (a blob: URL) and names it by its path.
            size = browser.run("Array.from(document.images).filter(i => i.alt === 'data_validation/drift.png' && "
                               "i.complete && i.naturalWidth > 0).map(i => [i.naturalWidth, i.naturalHeight])[0]"
                               " || null")
            if size:
                break
            time.sleep(0.5)
        assert size and size[0] > 800 and size[1] > 300, size
