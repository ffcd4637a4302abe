"""Looking up API keys: by hash in the read model's ``api_tokens``, briefly cached,
and revoked the moment the revocation event arrives.

A short cache keeps a burst of connections (a thousand SSE clients opening at
once) from asking SQL a thousand times. Revocation does not wait for the cache
(nor for the read model, which may lag or be rebuilding): every gateway follows
the API-token events itself (:func:`follow_revocations`), keeps the set of
revoked token ids, drops their cache entries and ends their open streams as the
``ApiTokenRevoked`` event arrives, so a revoked key stops working on every
gateway within the time an event takes to travel (ADR 0015).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from flightdeck.events import streams, subjects
from flightdeck.events.audit import ApiTokenRevoked
from flightdeck.events.envelope import Recorded
from flightdeck.eventstore import EventStore
from flightdeck.gateway.domain.auth import (
    Principal,
    effective_scopes,
    hash_token,
    token_valid,
    verify_ticket,
)
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.service_layer.ports import TokenRows
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)


class TokenDirectory:
    def __init__(
        self,
        read_model: TokenRows,
        *,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_revoked: Callable[[str], None] = lambda token_id: None,
    ) -> None:
        self._read_model = read_model
        self._ttl = ttl_s
        self._clock = clock
        self._on_revoked = on_revoked
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._revoked: set[str] = set()

    async def principal(self, token: str) -> Principal | None:
        """The principal a key stands for; ``None`` if unknown, expired or revoked."""
        digest = hash_token(token)
        now = self._clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = await self._read_model.token(digest)
        found, until = None, now + 0.5  # unknown keys briefly: a new key works soon
        if row is not None and row["id"] not in self._revoked:
            expires = _aware(row["expires_at"])
            wall = datetime.now(UTC)
            if token_valid(expires, _aware(row["revoked_at"]), wall):
                found = Principal(
                    tenant=row["tenant"],
                    token_id=row["id"],
                    scopes=effective_scopes(row["scopes"]),
                    name=row.get("name"),
                )
                until = now + self._ttl
                if expires is not None:  # never cached past its expiry
                    until = min(until, now + (expires - wall).total_seconds())
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (until, found)
        return found

    def is_revoked(self, token_id: str) -> bool:
        """Whether the key ``token_id`` was revoked (stream tickets carry only the id)."""
        return token_id in self._revoked

    def revoke(self, token_id: str) -> None:
        """Forget the key at once and end what it opened."""
        if token_id in self._revoked:
            return
        self._revoked.add(token_id)
        for digest, (_, principal) in list(self._cache.items()):
            if principal is not None and principal.token_id == token_id:
                del self._cache[digest]
        self._on_revoked(token_id)

    def apply(self, recorded: Recorded[Any]) -> None:
        if isinstance(recorded.event, ApiTokenRevoked):
            self.revoke(recorded.event.token_id)


class Authenticator:
    """Who an API key or a stream ticket stands for (``UNAUTHORIZED`` when nobody)."""

    def __init__(
        self, directory: TokenDirectory, ticket_key: bytes, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = directory
        self.ticket_key = ticket_key
        self._clock = clock

    async def by_key(self, key: str) -> Principal:
        principal = await self.directory.principal(key)
        if principal is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, "unknown, expired or revoked API key")
        return principal

    def by_ticket(self, ticket: str) -> Principal:
        granted = verify_ticket(self.ticket_key, ticket, self._clock())
        if self.directory.is_revoked(granted.token_id):  # a ticket dies with its key
            raise ApiError(ErrorCode.UNAUTHORIZED, "unknown, expired or revoked API key")
        return granted


async def catch_up_revocations(store: EventStore, directory: TokenDirectory) -> int:
    """Apply every revocation stored so far; return the position read up to."""
    position = 0
    async for chunk in store.read_chunks(streams.AUDIT, subjects.ALL_ACCESS):
        for recorded in chunk.events:
            directory.apply(recorded)
        position = chunk.last_position
    return position


async def follow_revocations(store: EventStore, directory: TokenDirectory, after: int) -> None:
    """Apply revocations as they are appended, after position ``after``, until cancelled.

    The ordered consumer recreates itself across NATS reconnects; should it fail
    anyway, it is opened again (``retries.FEED``: within a second) from the last
    position seen, so none is missed.
    """
    position = after
    report = retries.logged(log, "revocation feed interrupted; reopening")
    retrying = retries.FEED.retrying(Exception, report)
    async for attempt in retrying:
        with attempt:
            while True:  # a feed that simply ends is opened again at once
                async with store.subscribe(subjects.ALL_ACCESS, after=position) as sub:
                    async for recorded in sub:
                        directory.apply(recorded)
                        position = recorded.position
                        retrying.reset()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
