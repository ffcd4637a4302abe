"""Opening and closing stages: the two events every transition is made of."""

from __future__ import annotations

from datetime import datetime, timedelta

from flightdeck.events.base import Event
from flightdeck.events.deployments import Stage, StageStarted, StageSucceeded
from flightdeck.orchestrator.domain import state
from flightdeck.orchestrator.domain.state import Deployment
from flightdeck.orchestrator.domain.timing import ms


def open_stage(stage: Stage, s: Deployment, now: datetime) -> StageStarted:
    return StageStarted(stage=stage, deadline=now + timedelta(seconds=s.request.stage_timeout_s))


def next_stage(
    s: Deployment, now: datetime, stage: Stage, detail: state.Detail | None = None
) -> list[Event]:
    """The current stage succeeded: close it and open ``stage``."""
    assert s.stage is not None and s.stage_started_at is not None
    return [
        StageSucceeded(
            stage=s.stage, duration_ms=ms(now - s.stage_started_at), detail=dict(detail or {})
        ),
        open_stage(stage, s, now),
    ]
