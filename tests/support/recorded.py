"""Recorded events without a server, for pure projection tests."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from flightdeck.events import Recorded, streams
from flightdeck.events.base import Message
from tests.support.samples import T0

_positions = itertools.count(1)


def recorded(
    subject: str, event: Message, *, seconds: float = 0.0, actor: str = "user:ada"
) -> Recorded[Any]:
    position = next(_positions)
    return Recorded(
        event=event,
        id=f"evt-{position}",
        type=event.type_name(),
        source="/flightdeck/tests",
        subject=subject,
        time=T0 + timedelta(seconds=seconds or position),
        stream=streams.stream_for_subject(subject),
        position=position,
        correlation_id="corr",
        causation_id=None,
        actor=actor,
        schema_version=1,
    )
