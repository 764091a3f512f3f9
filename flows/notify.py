"""Notices a run posts itself, to the webhook `make deploy` saved as a Prefect block (flows.ops.notices): a version
held for review. Failures and late runs are posted by Prefect's automations, not from here."""

from __future__ import annotations

BLOCK_NAME = "keras-mlops-notices"


def post_notice(subject: str, body: str) -> str | None:
    """Post through the block; None once posted, else why not (no block saved, the API or the webhook not
    answering). A notice that cannot be sent never fails the run that sends it: what it says is recorded there."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    try:
        block = CustomWebhookNotificationBlock.load(BLOCK_NAME)
    except Exception as error:  # ValueError when no such block; an unreachable API raises its own
        return (f"no notice block {BLOCK_NAME!r} on this Prefect API (make deploy with NOTIFY_WEBHOOK_URL saves "
                f"it): {' '.join(str(error).split())[:200]}")
    try:
        block.notify(body, subject)
    except Exception as error:
        return f"the webhook did not take the notice: {' '.join(str(error).split())[:200]}"
    return None
