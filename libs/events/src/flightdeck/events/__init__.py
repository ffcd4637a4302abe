"""Flightdeck's shared vocabulary: events, commands, subjects, streams, the envelope and codec.

Nothing else in Flightdeck defines the shape of a message. Import event types
from their modules (``flightdeck.events.deployments`` …); the envelope and the
codec are re-exported here. This package depends on msgspec only: where events
are stored is :mod:`flightdeck.eventstore`'s business.
"""

from flightdeck.events.base import Command, Event, Message
from flightdeck.events.codec import Codec
from flightdeck.events.envelope import Cause, Recorded, new_id
from flightdeck.events.errors import (
    AppendError,
    AppendUnacknowledged,
    ConcurrencyError,
    EventDecodeError,
    EventStoreError,
    StoreUnavailable,
)
from flightdeck.events.streams import StreamSettings, StreamSpec, declare

__all__ = [
    "AppendError",
    "AppendUnacknowledged",
    "Cause",
    "Codec",
    "Command",
    "ConcurrencyError",
    "Event",
    "EventDecodeError",
    "EventStoreError",
    "Message",
    "Recorded",
    "StoreUnavailable",
    "StreamSettings",
    "StreamSpec",
    "declare",
    "new_id",
]
