"""Key-value buckets, as the services keep small shared state in them: a port.

The k8s-watcher's leader lease and the log relay's container leases, members,
cursors and follow rules live in buckets with compare-and-set writes: ``create``
only when the key is absent (or expired, in a bucket with a TTL), ``update``
only from the revision last read. The JetStream adapter
(:mod:`flightdeck.eventstore.jetstream.buckets`) keeps them in NATS KV.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

import msgspec


class BucketError(Exception):
    """Base of every bucket failure."""


class WrongRevision(BucketError):
    """The key is not at the revision the write expected (for ``create``: it exists)."""


class BucketUnavailable(BucketError):
    """The bucket's server did not answer (or refused): the write may not have happened."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A key's value at one revision; ``deleted`` marks a delete (its value is empty)."""

    key: str
    value: bytes
    revision: int
    created: datetime | None = None
    deleted: bool = False


class Bucket(Protocol):
    """One bucket of keys (dot-separated tokens) and byte values."""

    async def get(self, key: str) -> Entry | None:
        """The key's current entry; ``None`` when it is absent, expired or deleted."""
        ...

    async def create(self, key: str, value: bytes) -> int:
        """Write a key that does not exist; its revision. ``WrongRevision`` if it does."""
        ...

    async def update(self, key: str, value: bytes, *, last: int) -> int:
        """Write a key last written at revision ``last``; its new revision."""
        ...

    async def put(self, key: str, value: bytes) -> int:
        """Write a key whatever its revision; its new revision."""
        ...

    async def delete(self, key: str, *, last: int | None = None) -> None:
        """Delete a key (only from revision ``last``, if given)."""
        ...

    def watch(self, pattern: str) -> AbstractAsyncContextManager[AsyncIterator[Entry | None]]:
        """The current entry of every key matching ``pattern``, then ``None``, then each
        change as it happens (deletes included), until the context ends."""
        ...


class Buckets(Protocol):
    """Where buckets are opened (by a service) and provisioned (by the admin)."""

    async def open(self, name: str, *, ttl_s: float | None = None) -> Bucket:
        """The bucket ``name``, created (history 1, keys expiring ``ttl_s`` after their
        last write) when missing."""
        ...

    async def ensure(self, name: str, *, ttl_s: float | None, replicas: int) -> None:
        """Create the bucket, or bring its key lifetime to ``ttl_s`` (admin only)."""
        ...
