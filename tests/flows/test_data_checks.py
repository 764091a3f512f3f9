"""Nights of a real table through the CLI: the data checks between the champion and what tonight brings.

Night 1 on the wine table (with a category column) trains the champion. Each later night starts from a copy of
that registry: a broken night is refused before anything trains, naming the rule and the column, with nothing
registered and no run left RUNNING; a drifted night trains but its model waits as `challenger`, tagged
needs_review, and a notice reaches the team's webhook (a receiver on 127.0.0.1); an unchanged night passes; a
deliberate schema change replaces the champion only when a person accepts it.
"""

import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.__main__ import main
from tests.e2e.receiver import receiving
from tests.training.checks.data import doubled_share, wine

pytestmark = pytest.mark.e2e
MODEL, EXPERIMENT = "wine-checks", "data-checks"
# As small as the stages allow: one capacity, dropout and schedule variant, one trial.
TINY = ["--target", "cultivar", "--profile", "quick", "--capacity-units", "16", "--dropout-rates", "0.2",
        "--schedule-variants", "early-stopping", "--tuner", "random", "--max-trials", "1", "--model-name", MODEL,
        "--experiment", EXPERIMENT]


def night(folder: Path, name: str, frame) -> str:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def first_night(prefect_harness, tmp_path_factory):
    """The champion, version 1, trained on night 1; its store is copied by each test (a registry of its own)."""
    folder = tmp_path_factory.mktemp("data-checks")
    data = night(folder, "night-1", wine())
    store = folder / "store" / "mlflow.db"
    store.parent.mkdir()
    assert main(["run", "--data", data, *TINY, "--tracking-uri", f"sqlite:///{store}",
                 "--work-dir", str(folder / "work")]) == 0
    return folder, store


@pytest.fixture
def registry(first_night, tmp_path):
    """A copy of night 1's store (its artifacts stay where night 1 wrote them): (tracking URI, client)."""
    store = tmp_path / "mlflow.db"
    shutil.copyfile(first_night[1], store)
    uri = f"sqlite:///{store}"
    return uri, MlflowClient(uri)


def run(data: str, uri: str, *extra: str) -> int:
    return main(["run", "--data", data, *TINY, "--tracking-uri", uri, *extra])


def versions(client) -> dict[str, dict]:
    return {str(v.version): v.tags for v in client.search_model_versions(f"name = '{MODEL}'")}


def pipeline_runs(client) -> list:
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    return client.search_runs([experiment], "tags.stage = 'pipeline'", order_by=["attributes.start_time DESC"])


def renamed():
    return wine().rename(columns={"alcohol": "alcohol_pct"})


def retyped():
    frame = wine()
    frame["magnesium"] = frame["magnesium"].map(lambda v: f"{v} mg")
    return frame


def class_vanished():
    frame = wine()
    return frame[frame["cultivar"] != 2]


def rows_collapsed():
    return wine().sample(frac=0.3, random_state=0)


BROKEN = {
    "renamed column": (renamed, ["column missing: column 'alcohol'", "new column: column 'alcohol_pct'",
                                 "--accept-schema-change"]),
    "type change": (retyped, ["type changed: column 'magnesium': number (float64) -> category (str)"]),
    "class vanished": (class_vanished, ["classes changed: column 'cultivar': gone: ['2']"]),
    "rows collapsed": (rows_collapsed, ["rows collapsed: 53 rows against the champion's 178 (fewer than 50%)"]),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_night_is_refused_before_training_naming_the_rule_and_column(case, first_night, registry, capsys):
    uri, client = registry
    make, expected = BROKEN[case]
    data = night(first_night[0], case.replace(" ", "-"), make())
    assert run(data, uri) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: {data}: tonight's data breaks the contract with {MODEL} version 1: ")
    for words in expected:
        assert words in error
    assert list(versions(client)) == ["1"]  # nothing registered
    refused = pipeline_runs(client)[0]
    assert (refused.info.status, refused.data.tags["data_validation.status"]) == ("FAILED", "blocked")
    children = client.search_runs([refused.info.experiment_id], f"tags.mlflow.parentRunId = '{refused.info.run_id}'")
    assert {r.data.tags["stage"]: r.info.status for r in children} == {"split": "FINISHED", "validation": "FAILED"}
    experiment = refused.info.experiment_id
    assert client.search_runs([experiment], "attributes.status = 'RUNNING'") == []
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"


def test_an_unchanged_night_passes(first_night, registry, capsys):
    uri, client = registry
    assert run(str(first_night[0] / "night-1.csv"), uri) == 0
    assert "data checks:     passed" not in capsys.readouterr().out  # nothing trained: the no-change summary
    latest = pipeline_runs(client)[0]
    assert latest.data.tags["data_validation.status"] == "passed"
    assert latest.data.tags["data_validation.reference"] == f"{MODEL} version 1"
    assert latest.data.tags["outcome"] == "no change"


def test_a_drifted_night_is_trained_but_held_for_review_and_the_team_is_told(first_night, registry, capsys):
    """proline x1000 and a category that doubled its share: the model is registered as challenger, tagged
    needs_review with the drifted columns, and a notice is posted to the webhook block make deploy saves."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from flows.notify import BLOCK_NAME
    from flows.ops.notices import PAYLOAD

    uri, client = registry
    frame = doubled_share(wine(), "region", "east")
    frame["proline"] = frame["proline"] * 1000
    data = night(first_night[0], "drifted", frame)
    with receiving() as receiver:
        CustomWebhookNotificationBlock(name="keras-mlops", url=receiver.url, json_data=PAYLOAD).save(
            BLOCK_NAME, overwrite=True)
        try:
            assert run(data, uri) == 0
        finally:
            CustomWebhookNotificationBlock.delete(BLOCK_NAME)
        notice = receiver.wait_for([f"{MODEL} version 2 held for review"], timeout=30)
    assert "proline (PSI" in notice["body"] and "region (PSI" in notice["body"]
    assert f"rollback --to 2 --model-name {MODEL}" in notice["body"]
    out = capsys.readouterr().out
    assert "data checks:     held" in out and "-> challenger (held for review: tonight's data drifted" in out
    tags = versions(client)["2"]
    assert (tags["data_validation.status"], tags["needs_review"]) == ("held", "true")
    assert tags["data_validation.drifted"].startswith("proline (PSI ")
    assert ", region (PSI " in tags["data_validation.drifted"]
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"
    held = pipeline_runs(client)[0]
    assert held.info.status == "FINISHED" and held.data.tags["data_validation.status"] == "held"
    validation = next(r for r in client.search_runs([held.info.experiment_id], "tags.stage = 'validation'")
                      if r.data.tags["mlflow.parentRunId"] == held.info.run_id)
    assert validation.data.metrics["drift.psi.proline"] > 5 and validation.data.metrics["drift.psi.region"] > 0.2
    assert validation.data.metrics["drift.share"] == pytest.approx(2 / 15)
    assert {a.path for a in client.list_artifacts(validation.info.run_id, "data_validation")} == {
        "data_validation/report.json", "data_validation/drift.png"}
    card = client.get_model_version(MODEL, "2").description
    assert "## Data checks\n- status: **held**" in card and "drifted from the champion's data: proline" in card


def test_an_accepted_schema_change_replaces_the_champion_and_says_so(first_night, registry, capsys):
    uri, client = registry
    data = night(first_night[0], "renamed-accepted", renamed())
    assert run(data, uri, "--accept-schema-change") == 0
    out = capsys.readouterr().out
    assert "-> champion (schema change accepted (column missing: column 'alcohol'" in out
    assert "the champion cannot score this data (version 1: " in out
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert str(champion.version) == "2"
    assert (champion.tags["schema.changed"], champion.tags["data_validation.status"]) == ("true", "passed")
    assert champion.tags["schema.accepted"].startswith("column missing: column 'alcohol'")
    assert "schema change accepted by a person (--accept-schema-change): column missing" in champion.description


def test_the_champion_keeps_the_profile_of_its_data(first_night, registry):
    """data_profile.json travels with the registered model: what `check` and the next night compare with."""
    import json

    import mlflow

    uri, _ = registry
    mlflow.set_tracking_uri(uri)
    path = mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1/artifacts/data_profile.json",
                                               dst_path=str(first_night[0] / "downloaded"))
    profile = json.loads(Path(path).read_text())
    assert profile["rows"] == 178 and profile["columns"]["region"]["kind"] == "category"
    assert len(profile["columns"]["proline"]["edges"]) == 11


def test_check_prints_the_verdict_table_and_exits_2_on_a_broken_night(first_night, registry, capsys):
    uri, client = registry
    options = ["--target", "cultivar", "--model-name", MODEL, "--experiment", EXPERIMENT, "--tracking-uri", uri]
    assert main(["check", "--data", str(first_night[0] / "night-1.csv"), *options]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"data validation: passed\npassed: compared with {MODEL} version 1\n")
    assert "proline" in out and "ok" in out
    data = night(first_night[0], "check-retyped", retyped())
    assert main(["check", "--data", data, *options, "--version", "1"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("data validation: blocked\n")
    assert "magnesium  type changed  number (float64) -> category (str)  refused" in out
    assert main(["check", "--data", data, *options, "--version", "9"]) == 2
    assert f"registered model '{MODEL}' has no version '9'" in capsys.readouterr().err
    assert pipeline_runs(client)[0].data.tags.get("data_validation.status") == "passed"  # check records nothing
