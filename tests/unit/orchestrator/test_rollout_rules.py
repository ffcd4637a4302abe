"""Rollout health, judged as ``kubectl rollout status`` and Argo CD judge it."""

from __future__ import annotations

import pytest

from flightdeck.events.cluster import Condition
from flightdeck.orchestrator.domain.rollout import ErrorCode, Verdict, pod_status, rollout_status
from tests.unit.orchestrator.story import deployment, pod

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("observed", "verdict", "message"),
    [
        (
            deployment(generation=2, observed=1),
            Verdict.PROGRESSING,
            "waiting for the spec update to be observed",
        ),
        (deployment(updated=1, available=1), Verdict.PROGRESSING, "1 of 2 new replicas updated"),
        (deployment(status_replicas=3), Verdict.PROGRESSING, "1 old replicas pending termination"),
        (deployment(available=1), Verdict.PROGRESSING, "1 of 2 updated replicas available"),
        (deployment(), Verdict.COMPLETE, "2 of 2 replicas available"),
        (
            deployment(replicas=0, updated=0, available=0),
            Verdict.COMPLETE,
            "0 of 0 replicas available",
        ),
    ],
)
def test_rollout_status(observed, verdict, message) -> None:
    status = rollout_status(observed)
    assert (status.verdict, status.message) == (verdict, message)


def test_progress_deadline_exceeded_is_a_failure_even_when_counts_look_fine() -> None:
    stuck = Condition(type="Progressing", status="False", reason="ProgressDeadlineExceeded")
    status = rollout_status(deployment(available=1, conditions=[stuck]))
    assert (status.verdict, status.error_code) == (
        Verdict.FAILED,
        ErrorCode.ROLLOUT_DEADLINE_EXCEEDED,
    )


def test_a_new_replica_set_available_is_the_normal_progressing_reason() -> None:
    fine = Condition(type="Progressing", status="True", reason="NewReplicaSetAvailable")
    assert rollout_status(deployment(conditions=[fine])).verdict is Verdict.COMPLETE


@pytest.mark.parametrize(
    ("observed", "label", "code"),
    [
        (pod("p", phase="Pending", ready=False), "Pending", None),
        (pod("p", phase="Pending", waiting="ContainerCreating"), "ContainerCreating", None),
        (pod("p", ready=False), "Running", None),
        (pod("p"), "Ready", None),
        (pod("p", waiting="ErrImagePull"), "ErrImagePull", ErrorCode.IMAGE_PULL_FAILED),
        (pod("p", waiting="ImagePullBackOff"), "ImagePullBackOff", ErrorCode.IMAGE_PULL_FAILED),
        (
            pod("p", waiting="CrashLoopBackOff", restarts=2),
            "CrashLoopBackOff",
            ErrorCode.CRASH_LOOP,
        ),
        (pod("p", waiting="SomethingBackOff"), "SomethingBackOff", ErrorCode.POD_FAILED),
        (pod("p", phase="Failed", ready=False), "Failed", ErrorCode.POD_FAILED),
    ],
)
def test_pod_status(observed, label, code) -> None:
    status = pod_status(observed)
    assert (status.label, status.error_code) == (label, code)


def test_restarts_are_summed_over_containers() -> None:
    assert pod_status(pod("p", restarts=3)).restarts == 3
