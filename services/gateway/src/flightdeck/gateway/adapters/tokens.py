"""Looking up API keys: by hash in the read model's ``api_tokens``, briefly cached.

A short cache keeps a burst of connections (a thousand SSE clients opening at
once) from asking SQL a thousand times; revocation still takes effect within
the cache's lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from flightdeck.gateway.adapters.queries import ReadModel
from flightdeck.gateway.domain.auth import Principal, effective_scopes, hash_token, token_valid


class TokenDirectory:
    def __init__(
        self,
        read_model: ReadModel,
        *,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_model = read_model
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, token: str) -> Principal | None:
        """The principal a key stands for; ``None`` if unknown, expired or revoked."""
        digest = hash_token(token)
        now = self._clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = await self._read_model.token(digest)
        found = None
        if row is not None and token_valid(
            _aware(row["expires_at"]), _aware(row["revoked_at"]), datetime.now(UTC)
        ):
            found = Principal(
                tenant=row["tenant"], token_id=row["id"], scopes=effective_scopes(row["scopes"])
            )
        if len(self._cache) > 10_000:
            self._cache.clear()
        # Unknown keys are cached only briefly, so a key used right after creation works soon.
        self._cache[digest] = (now + (self._ttl if found else 0.5), found)
        return found


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
