"""The gateway's key lookups: a cache that never hides a revocation or outlives a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from flightdeck.events import Recorded
from flightdeck.events.audit import ApiTokenRevoked
from flightdeck.gateway.adapters.queries import ReadModel
from flightdeck.gateway.domain.auth import hash_token
from flightdeck.gateway.service_layer.tokens import TokenDirectory

pytestmark = pytest.mark.unit

KEY = "fdk_key"


class Rows:
    """The read model's ``api_tokens``, in memory, counting lookups."""

    def __init__(self, **row: Any) -> None:
        self.row = {
            "id": "t1",
            "tenant": "acme",
            "scopes": ["read"],
            "token_hash": hash_token(KEY),
            "expires_at": None,
            "revoked_at": None,
            **row,
        }
        self.lookups = 0

    async def token(self, digest: str) -> dict[str, Any] | None:
        self.lookups += 1
        return self.row if digest == self.row["token_hash"] else None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def directory(rows: Rows, clock: Clock, closed: list[str] | None = None) -> TokenDirectory:
    return TokenDirectory(
        cast(ReadModel, rows),
        ttl_s=3600.0,
        clock=clock,
        on_revoked=(closed if closed is not None else []).append,
    )


def revoked(token_id: str) -> Recorded[Any]:
    event = ApiTokenRevoked(token_id=token_id, tenant="acme")
    return cast(Recorded[Any], SimpleNamespace(event=event))  # only the event is read


async def test_a_revocation_wins_over_a_fresh_cache_entry_and_ends_the_keys_streams() -> None:
    rows, clock, closed = Rows(), Clock(), []
    tokens = directory(rows, clock, closed)
    assert (await tokens.principal(KEY)) is not None
    assert (await tokens.principal(KEY)) is not None and rows.lookups == 1  # cached
    tokens.apply(revoked("t1"))
    assert await tokens.principal(KEY) is None
    assert tokens.is_revoked("t1") and closed == ["t1"]
    tokens.apply(revoked("t1"))  # again: nothing more to end
    assert closed == ["t1"]


async def test_other_keys_revocations_change_nothing() -> None:
    rows, clock = Rows(), Clock()
    tokens = directory(rows, clock)
    tokens.apply(revoked("t2"))
    assert (await tokens.principal(KEY)) is not None


async def test_a_key_is_never_cached_past_its_expiry() -> None:
    rows, clock = Rows(expires_at=datetime.now(UTC) + timedelta(seconds=30)), Clock()
    tokens = directory(rows, clock)
    assert (await tokens.principal(KEY)) is not None
    clock.now += 60  # past the expiry, far within the hour-long cache
    rows.row["expires_at"] = datetime.now(UTC) - timedelta(seconds=1)  # as the wall clock sees it
    assert await tokens.principal(KEY) is None
