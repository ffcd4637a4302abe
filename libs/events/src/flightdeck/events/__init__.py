"""Flightdeck's shared vocabulary: events, commands, subjects, streams, the event store.

Nothing else in Flightdeck defines the shape of a message. Import event types
from their modules (``flightdeck.events.deployments`` …); the store and the
envelope are re-exported here.
"""

from flightdeck.events.base import Command, Event, Message
from flightdeck.events.codec import Codec
from flightdeck.events.envelope import Cause, Recorded, new_id
from flightdeck.events.errors import (
    AppendError,
    ConcurrencyError,
    EventDecodeError,
    EventStoreError,
)
from flightdeck.events.store import AppendResult, Chunk, EventStore
from flightdeck.events.streams import StreamSettings, StreamSpec, declare
from flightdeck.events.subscription import Subscription

__all__ = [
    "AppendError",
    "AppendResult",
    "Cause",
    "Chunk",
    "Codec",
    "Command",
    "ConcurrencyError",
    "Event",
    "EventDecodeError",
    "EventStore",
    "EventStoreError",
    "Message",
    "Recorded",
    "StreamSettings",
    "StreamSpec",
    "Subscription",
    "declare",
    "new_id",
]
