"""Panda's words for ours (ADR 0024): status, stage numbers, error statuses."""

from __future__ import annotations

import pytest

from flightdeck.events.deployments import DeploymentStatus, Stage
from flightdeck.gateway.domain import panda

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("phase", "status"),
    [
        (DeploymentStatus.PENDING, "PENDING"),
        (DeploymentStatus.IN_PROGRESS, "RUNNING"),
        (DeploymentStatus.SUCCEEDED, "COMPLETED"),
        (DeploymentStatus.FAILED, "FAILED"),
        (DeploymentStatus.CANCELLED, "FAILED"),  # with its own errorCode
        ("ROLLED_BACK", "FAILED"),  # any other end is no success either
    ],
)
def test_status_is_panda_s_four_values(phase: str, status: str) -> None:
    assert panda.status(phase) == status


def test_every_panda_status_filters_the_phases_it_covers() -> None:
    covered = [p for phases in panda.PHASES_OF.values() for p in phases]
    assert sorted(covered) == sorted(s.value for s in DeploymentStatus)
    assert all(panda.status(p) == s for s, phases in panda.PHASES_OF.items() for p in phases)


def test_stages_are_numbered_from_one_and_the_request_is_zero() -> None:
    assert [panda.stage_number(s.value) for s in Stage] == [1, 2, 3, 4, 5, 6, 7]
    assert panda.stage_number("requested") == panda.stage_number(None) == 0


def test_a_timeout_is_408_and_every_status_has_its_phrase() -> None:
    assert panda.error_status("DEPLOYMENT_TIMEOUT") == 408
    assert panda.error_status("CANCELLED") == 409
    assert panda.error_status("CRASH_LOOP") == 422
    assert set(panda.ERROR_STATUS.values()) | {422} <= set(panda.REASON_PHRASE)
