"""The Prefect side of judging a RUNNING run's owner: a flow run in a final state has ended."""

import uuid

from prefect import flow

from flows.tasks import flow_run_ended, root_flow_run_id


@flow
def finishes() -> str:
    return root_flow_run_id()


@flow
def outer() -> tuple[str, str]:
    from prefect.runtime import flow_run

    return str(flow_run.id), finishes()


def test_a_completed_flow_run_has_ended_and_an_unknown_one_cannot_be_judged(prefect_harness):
    own, inner_root = outer()
    assert inner_root == own  # a stage inside the pipeline records the pipeline's flow run
    assert flow_run_ended(own) is True
    assert flow_run_ended(str(uuid.uuid4())) is None
    assert root_flow_run_id() is None  # outside any flow
