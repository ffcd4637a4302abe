"""Messages a consumer gave up on: ``fd.dlq.<service>``.

A poison message (undecodable, or failing its handler on every delivery) is
recorded here with the error, then terminated on its own stream so the
consumer moves on. The original payload and headers are kept (a large payload
only in part, so the letter itself always fits in a message), so an operator can
inspect it and publish it again once the cause is fixed.
"""

from __future__ import annotations

from flightdeck.events.base import Event


class MessageDeadLettered(Event, frozen=True, kw_only=True, tag="dlq.message_dead_lettered"):
    """``consumer`` of ``service`` could not handle ``stream``#``position``."""

    service: str
    consumer: str
    stream: str
    subject: str
    position: int
    deliveries: int
    error: str
    payload: str
    """The original body as text, cut to a size that fits a message of its own."""
    headers: dict[str, str] = {}
    payload_bytes: int | None = None
    """The original body's size in bytes (``payload`` may hold only its start)."""


DeadLetterEvent = MessageDeadLettered
