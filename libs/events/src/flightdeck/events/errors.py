"""The errors the event store raises; each says what went wrong and where."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every event-store failure."""


class ConcurrencyError(EventStoreError):
    """Another writer appended to the aggregate since we read it."""

    def __init__(self, subject: str, expected: int, actual: int | None) -> None:
        self.subject = subject
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"concurrent append to {subject}: expected last position {expected}, "
            f"stream has {actual if actual is not None else 'a different one'}"
        )


class StoreUnavailable(EventStoreError):
    """The store's server did not answer, or refused the request: try again later."""


class AppendError(EventStoreError):
    """The server refused or never acknowledged an append; nothing may be assumed stored."""

    def __init__(self, subject: str, reason: str, code: int | None = None) -> None:
        self.subject = subject
        self.code = code
        super().__init__(
            f"append to {subject} failed: {reason}" + (f" (code {code})" if code else "")
        )


class AppendUnacknowledged(AppendError):
    """No acknowledgement came (the store was unreachable): the append may or may not be
    stored. Sending it again with the same ids is safe: a stored one is a duplicate."""


class EventDecodeError(EventStoreError):
    """A stored message is not a valid event of its stream."""

    def __init__(self, stream: str, subject: str, position: int, reason: str) -> None:
        self.stream = stream
        self.subject = subject
        self.position = position
        self.reason = reason
        super().__init__(f"undecodable message at {stream}#{position} ({subject}): {reason}")
