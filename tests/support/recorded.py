"""Recorded events without a server: the one way tests build a ``Recorded``."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from flightdeck.events import Recorded, streams
from flightdeck.events.base import Message
from tests.support.samples import T0

_positions = itertools.count(1)


def recorded(
    subject: str,
    event: Message,
    *,
    position: int | None = None,
    at: datetime | None = None,
    seconds: float = 0.0,
    id: str | None = None,
    actor: str | None = "user:ada",
    correlation_id: str | None = "corr",
    causation_id: str | None = None,
) -> Recorded[Any]:
    """``event`` as the store would hand it back from ``subject``.

    Args:
        position: its stream position (else the next of a run-wide counter).
        at: its time (else ``T0`` plus ``seconds``, or plus its position).
        id: its CloudEvents id (else ``evt-<position>``).
    """
    position = next(_positions) if position is None else position
    return Recorded(
        event=event,
        id=id or f"evt-{position}",
        type=event.type_name(),
        source="/flightdeck/tests",
        subject=subject,
        time=at or T0 + timedelta(seconds=seconds or position),
        stream=streams.stream_for_subject(subject),
        position=position,
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        schema_version=1,
    )
