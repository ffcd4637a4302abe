"""Turning events into NATS messages and back, in one place.

Encoding writes the payload (msgspec JSON, tag included) and the CloudEvents
headers. Decoding reads a stream's whole tagged union in one call; only an
event written at an older schema version takes the slow path through the
upcasters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import msgspec

from flightdeck.events import envelope as ce
from flightdeck.events.base import Message
from flightdeck.events.envelope import Cause, Recorded
from flightdeck.events.errors import EventDecodeError
from flightdeck.events.streams import UNIONS
from flightdeck.events.upcasting import upcast


def utc_now() -> datetime:
    return datetime.now(UTC)


class OutgoingMessage(msgspec.Struct, frozen=True):
    """A message ready to publish: subject, body and headers."""

    subject: str
    payload: bytes
    headers: dict[str, str]
    id: str


def _members(union: Any) -> tuple[type[Message], ...]:
    return tuple(get_args(union)) or (union,)


class Codec:
    """Encodes and decodes every stream's messages.

    Args:
        source: the CloudEvents ``source`` of what this process writes (``/flightdeck/<service>``).
        clock: where event times come from; tests pass a fixed one.
    """

    def __init__(self, source: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.source = source
        self._clock = clock
        self._encoder = msgspec.json.Encoder()
        self._decoders = {name: msgspec.json.Decoder(union) for name, union in UNIONS.items()}
        self._versions: dict[str, int] = {
            cls.type_name(): cls.schema_version
            for union in UNIONS.values()
            for cls in _members(union)
        }

    def encode(
        self, subject: str, event: Message, cause: Cause, *, event_id: str | None = None
    ) -> OutgoingMessage:
        """The message for ``event`` on ``subject``, with a fresh id unless one is given."""
        eid = event_id or ce.new_id()
        headers = {
            ce.MSG_ID: eid,
            ce.CE_SPECVERSION: ce.SPEC_VERSION,
            ce.CE_ID: eid,
            ce.CE_TYPE: ce.TYPE_PREFIX + event.type_name(),
            ce.CE_SOURCE: self.source,
            ce.CE_SUBJECT: subject,
            ce.CE_TIME: self._clock().isoformat(),
            ce.CE_SCHEMAVERSION: str(event.schema_version),
            ce.CE_CORRELATION: cause.correlation_id,
            ce.CE_ACTOR: cause.actor,
            ce.CONTENT_TYPE: "application/json",
        }
        if cause.causation_id:
            headers[ce.CE_CAUSATION] = cause.causation_id
        return OutgoingMessage(subject, self._encoder.encode(event), headers, eid)

    def decode(
        self,
        stream: str,
        subject: str,
        payload: bytes,
        headers: Mapping[str, str] | None,
        position: int,
    ) -> Recorded[Any]:
        """The recorded event in a stored message; raises :class:`EventDecodeError`.

        Whatever is wrong with the message (its bytes, its headers, an upcaster
        tripping over it) is an :class:`EventDecodeError`, so every reader can skip
        or dead-letter it the same way instead of crashing on it.
        """
        h = headers or {}
        try:
            event = self._decode_event(stream, payload, h)
            type_name = event.type_name()
            time = self._time(h)
        except Exception as exc:
            raise EventDecodeError(stream, subject, position, str(exc)) from exc
        return Recorded(
            event=event,
            id=h.get(ce.CE_ID, ""),
            type=type_name,
            source=h.get(ce.CE_SOURCE, ""),
            subject=subject,
            time=time,
            stream=stream,
            position=position,
            correlation_id=h.get(ce.CE_CORRELATION),
            causation_id=h.get(ce.CE_CAUSATION),
            actor=h.get(ce.CE_ACTOR),
            schema_version=event.schema_version,
        )

    def _time(self, headers: Mapping[str, str]) -> datetime:
        """When the event was recorded; a time without a zone is UTC (a naive time
        would make every deadline comparison of its aggregate raise)."""
        text = headers.get(ce.CE_TIME) or headers.get("Nats-Time-Stamp")
        if not text:
            return self._clock()
        time = datetime.fromisoformat(text)
        return time if time.tzinfo is not None else time.replace(tzinfo=UTC)

    def _decode_event(self, stream: str, payload: bytes, headers: Mapping[str, str]) -> Message:
        decoder = self._decoders.get(stream)
        if decoder is None:
            raise LookupError(f"unknown stream {stream}")
        type_name = headers.get(ce.CE_TYPE, "").removeprefix(ce.TYPE_PREFIX)
        current = self._versions.get(type_name)
        written = int(headers.get(ce.CE_SCHEMAVERSION, "1"))
        if current is None or written >= current:
            event: Message = decoder.decode(payload)
            return event
        raw = msgspec.json.decode(payload)
        if not isinstance(raw, dict):
            raise ValueError("payload is not a JSON object")
        lifted = upcast(type_name, raw, written, current)
        converted: Message = msgspec.convert(lifted, UNIONS[stream])
        return converted
