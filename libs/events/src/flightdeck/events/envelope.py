"""The envelope: CloudEvents 1.0 attributes carried as NATS headers (binary mode).

The payload is the event itself; its metadata (id, type, source, time, and our
extensions for correlation, causation, actor and schema version) rides in
``ce-*`` headers, and ``Nats-Msg-Id`` repeats ``ce-id`` so the server drops a
retried publish.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

import msgspec

SPEC_VERSION = "1.0"
TYPE_PREFIX = "io.flightdeck."

# Header names. CloudEvents extension names are lowercase alphanumerics only.
CE_ID = "ce-id"
CE_TYPE = "ce-type"
CE_SOURCE = "ce-source"
CE_SUBJECT = "ce-subject"
CE_TIME = "ce-time"
CE_SPECVERSION = "ce-specversion"
CE_SCHEMAVERSION = "ce-schemaversion"
CE_CORRELATION = "ce-correlationid"
CE_CAUSATION = "ce-causationid"
CE_ACTOR = "ce-actor"
CONTENT_TYPE = "content-type"
MSG_ID = "Nats-Msg-Id"

# What a reader needs to rebuild a Recorded from a stored message: the CloudEvents
# attributes it keeps, and where the server says the message sits.
READ_HEADERS = frozenset(
    {
        CE_ID,
        CE_TYPE,
        CE_SOURCE,
        CE_TIME,
        CE_SCHEMAVERSION,
        CE_CORRELATION,
        CE_CAUSATION,
        CE_ACTOR,
        "Nats-Sequence",
        "Nats-Subject",
        "Nats-Time-Stamp",
        "Nats-Num-Pending",
    }
)

E = TypeVar("E")


def new_id() -> str:
    """A fresh, globally unique event or correlation id."""
    return uuid.uuid4().hex


class Cause(msgspec.Struct, frozen=True, kw_only=True):
    """Why events are being appended: who acted, in which flow, because of what.

    Args:
        actor: the user (``user:<name>``) or service (``service:<name>``) responsible.
        correlation_id: shared by everything one request set in motion.
        causation_id: the id of the event or command that directly caused this.
    """

    actor: str
    correlation_id: str
    causation_id: str | None = None

    @classmethod
    def root(cls, actor: str, correlation_id: str | None = None) -> Cause:
        """The start of a new flow (an HTTP request, a CLI command)."""
        return cls(actor=actor, correlation_id=correlation_id or new_id())

    def because_of(self, recorded: Recorded[object], actor: str | None = None) -> Cause:
        """A cause continuing ``recorded``'s flow, caused directly by it."""
        return Cause(
            actor=actor or self.actor,
            correlation_id=recorded.correlation_id or self.correlation_id,
            causation_id=recorded.id,
        )


class Recorded(msgspec.Struct, Generic[E], frozen=True, kw_only=True):
    """An event as stored: the event, its envelope, and its global position."""

    event: E
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    stream: str
    position: int
    correlation_id: str | None
    causation_id: str | None
    actor: str | None
    schema_version: int
