"""`make deploy` with NOTIFY_WEBHOOK_URL: Prefect automations that post to a webhook (a chat channel) when a run
of the nightly deployment fails, crashes, or has not finished in time.

Prefect's own parts do the work, in the server: a CustomWebhookNotificationBlock holds the URL, and two
automations send it a notification, one reactive (a terminal failure), one proactive (Running, then no final
state within the deadline). Running this again replaces them, so `make deploy` can be run as often as wanted.

    python -m flows.ops.notices --deployment training-pipeline/nightly --deadline-hours 6
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from flows.notify import BLOCK_NAME

WEBHOOK_VARIABLE = "NOTIFY_WEBHOOK_URL"
FAILED, LATE = "keras-mlops: nightly run failed", "keras-mlops: nightly run not finished in time"
FINAL_STATES = ("Completed", "Failed", "Crashed", "Cancelled", "TimedOut")

# {"text": ...} is what Slack, Mattermost, Rocket.Chat and Teams' incoming webhooks read; a receiver of its own
# gets the parts too. The block fills in {{subject}} and {{body}}, rendered by the automation.
PAYLOAD = {"text": "{{subject}}\n{{body}}", "subject": "{{subject}}", "body": "{{body}}"}
BODY = ("Flow run {{ flow_run.name }} of {{ deployment.name }} is {{ flow_run.state.name }}"
        "{% if flow_run.state.message %}: {{ flow_run.state.message }}{% endif %}\n{{ flow_run|ui_url }}")


def automations(deployment_id, block_id, deadline: timedelta) -> list:
    from prefect.automations import AutomationCore
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    runs_of_the_deployment = {"match": {"prefect.resource.id": "prefect.flow-run.*"},
                              "match_related": {"prefect.resource.role": "deployment",
                                                "prefect.resource.id": f"prefect.deployment.{deployment_id}"}}
    failed = EventTrigger(**runs_of_the_deployment, posture=Posture.Reactive, threshold=1, within=timedelta(0),
                          expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"})
    # One bucket per flow run: each run that started must reach a final state (any) within the deadline.
    late = EventTrigger(**runs_of_the_deployment, posture=Posture.Proactive, threshold=1, within=deadline,
                        after={"prefect.flow-run.Running"}, for_each={"prefect.resource.id"},
                        expect={f"prefect.flow-run.{state}" for state in FINAL_STATES})
    hours = f"{deadline.total_seconds() / 3600:g} h"
    return [
        AutomationCore(name=FAILED, description="Posts to NOTIFY_WEBHOOK_URL when a nightly run fails.",
                       trigger=failed, actions=[SendNotification(
                           block_document_id=block_id, subject="keras-mlops: nightly run {{ flow_run.name }} "
                           "{{ flow_run.state.name }}", body=BODY)]),
        AutomationCore(name=LATE, description=f"Posts to NOTIFY_WEBHOOK_URL when a nightly run runs over {hours}.",
                       trigger=late, actions=[SendNotification(
                           block_document_id=block_id, subject="keras-mlops: nightly run {{ flow_run.name }} not "
                           f"finished after {hours}", body=BODY)]),
    ]


def install(deployment_name: str, url: str, deadline: timedelta) -> list[str]:
    """Create (or replace) the block and the automations; their names."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client

    block_id = CustomWebhookNotificationBlock(name="keras-mlops", url=url, json_data=PAYLOAD).save(
        BLOCK_NAME, overwrite=True)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_name)
        made = automations(deployment.id, block_id, deadline)
        for automation in made:
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
    return [automation.name for automation in made]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.ops.notices", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="training-pipeline/nightly")
    parser.add_argument("--deadline-hours", type=float, default=6.0,
                        help="a run still not finished this long after it started is reported (default 6)")
    args = parser.parse_args(argv)
    # From the environment only: a chat webhook's URL is its secret, and command lines are public.
    url = os.environ.get(WEBHOOK_VARIABLE, "")
    if not url:
        print(f"no failure notices: {WEBHOOK_VARIABLE} is not set (export it to be told when the nightly run "
              "fails)")
        return 0
    if not url.startswith(("http://", "https://")):
        print(f"{WEBHOOK_VARIABLE} is not an http(s) URL", file=sys.stderr)
        return 1
    if args.deadline_hours * 3600 < 10:
        print("--deadline-hours must be at least 10 seconds (Prefect's shortest proactive window)", file=sys.stderr)
        return 1
    names = install(args.deployment, url, timedelta(hours=args.deadline_hours))
    print(f"failure notices for {args.deployment} go to {WEBHOOK_VARIABLE}: automations "
          + ", ".join(f"'{name}'" for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
