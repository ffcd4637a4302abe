"""Leader election with a NATS KV key that expires: one watcher publishes at a time.

The bucket keeps each key for ``ttl`` seconds after its last write. A replica
becomes leader by *creating* the key (only possible when it is absent or
expired) and stays leader by *updating* it with the revision it last wrote,
every third of the TTL. A failed update (someone else took over, or NATS is
unreachable) ends its term at once. A standby tries to take the key every
quarter to third of the TTL (``retries.lease_standby``: jittered, so standbys
do not ask together). We chose this over a Kubernetes Lease: it needs no RBAC
on leases, and NATS is what we already depend on (ADR 0007).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from flightdeck.eventstore import Bucket, BucketError, Buckets
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)


class NotLeader(Exception):
    """Another replica holds the lease (or NATS did not answer)."""


class Lease:
    def __init__(self, buckets: Buckets, bucket: str, key: str, holder: str, ttl_s: float) -> None:
        self._buckets = buckets
        self._bucket = bucket
        self.key = key
        self.holder = holder
        self.ttl_s = ttl_s
        self._standby = retries.lease_standby(ttl_s)
        self._kv: Bucket | None = None
        self._revision = 0
        self.terms = 0

    async def _store(self) -> Bucket:
        if self._kv is None:
            self._kv = await self._buckets.open(self._bucket, ttl_s=self.ttl_s)
        return self._kv

    async def acquire(self) -> bool:
        try:
            self._revision = await (await self._store()).create(self.key, self.holder.encode())
        except BucketError:  # someone else holds it, or NATS did not answer
            return False
        return True

    async def renew(self) -> bool:
        try:
            kv = await self._store()
            self._revision = await kv.update(self.key, self.holder.encode(), last=self._revision)
        except BucketError as exc:
            log.warning("lease lost", key=self.key, error=repr(exc))
            return False
        return True

    async def release(self) -> None:
        with contextlib.suppress(BucketError):  # it expires anyway
            await (await self._store()).delete(self.key, last=self._revision)

    async def _take(self) -> None:
        if not await self.acquire():
            raise NotLeader(self.key)

    async def lead(self, work: Callable[[], Awaitable[None]]) -> None:
        """Forever: wait to become leader, run ``work`` while leader, stop it when not."""
        while True:
            await self._standby.retrying(NotLeader).call(self._take)
            self.terms += 1
            log.info("became leader", key=self.key, holder=self.holder)
            task = asyncio.ensure_future(work())
            try:
                while not task.done():
                    await asyncio.wait({task}, timeout=self.ttl_s / 3)
                    if not task.done() and not await self.renew():
                        break
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await self.release()
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
