"""`make deploy`'s failure notices (flows/notices.py) before they reach a server: what is refused, and the two
automations' triggers. Posting a real notice from a real Prefect server is tests/e2e/test_deployments.py."""

import uuid
from datetime import timedelta

from flows.ops.notices import FAILED, LATE, automations, main


def test_without_a_webhook_nothing_is_made_and_the_user_is_told(monkeypatch, capsys):
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
    assert main([]) == 0
    assert "no failure notices: NOTIFY_WEBHOOK_URL is not set" in capsys.readouterr().out


def test_a_webhook_that_is_no_url_and_a_deadline_under_ten_seconds_are_refused(monkeypatch, capsys):
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "hooks.example.com/secret-token")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "NOTIFY_WEBHOOK_URL is not an http(s) URL" in err and "secret-token" not in err
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "https://hooks.example.com/x")
    assert main(["--deadline-hours", "0.001"]) == 1
    assert "at least 10 seconds" in capsys.readouterr().err


def test_one_automation_reacts_to_a_failed_run_the_other_to_a_run_not_finished_in_time():
    deployment, block = uuid.uuid4(), uuid.uuid4()
    failed, late = automations(deployment, block, timedelta(hours=6))
    assert (failed.name, late.name) == (FAILED, LATE)
    for automation in (failed, late):
        trigger = automation.trigger
        assert trigger.match_related["prefect.resource.id"] == [f"prefect.deployment.{deployment}"]
        assert automation.actions[0].block_document_id == block
    assert failed.trigger.posture == "Reactive"
    assert failed.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed",
                                     "prefect.flow-run.TimedOut"}
    assert late.trigger.posture == "Proactive" and late.trigger.within == timedelta(hours=6)
    assert late.trigger.after == {"prefect.flow-run.Running"} and "prefect.flow-run.Completed" in late.trigger.expect
    assert late.trigger.for_each == {"prefect.resource.id"}  # one clock per flow run
    assert "not finished after 6 h" in late.actions[0].subject
