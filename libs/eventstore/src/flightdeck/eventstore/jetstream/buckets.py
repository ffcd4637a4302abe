"""The bucket port on NATS KV: JetStream streams named ``KV_<bucket>``.

nats-py's errors become the port's: a refused compare-and-set is
:class:`~flightdeck.eventstore.buckets.WrongRevision`, a server that does not
answer is :class:`~flightdeck.eventstore.buckets.BucketUnavailable`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from flightdeck.eventstore.buckets import Bucket, Buckets, BucketUnavailable, Entry, WrongRevision

T = TypeVar("T")
_UNAVAILABLE = (nats.errors.Error, TimeoutError, OSError)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except KeyWrongLastSequenceError as exc:
        raise WrongRevision(str(exc)) from exc
    except KeyNotFoundError:
        raise  # an answer, not an outage: the callers below turn it into theirs
    except _UNAVAILABLE as exc:
        raise BucketUnavailable(repr(exc)) from exc


async def _call(action: Awaitable[T]) -> T:
    with _translated():
        return await action


def _entry(found: KeyValue.Entry) -> Entry:
    deleted = found.operation in (KV_DEL, KV_PURGE)
    return Entry(
        key=found.key,
        value=b"" if deleted else (found.value or b""),
        revision=found.revision or 0,
        created=found.created,  # type: ignore[arg-type]  # a datetime; nats-py's hint says int
        deleted=deleted,
    )


class JetStreamBucket:
    """One NATS KV bucket behind the :class:`~flightdeck.eventstore.buckets.Bucket` port."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, key: str) -> Entry | None:
        try:
            found = await _call(self._kv.get(key))
        except KeyNotFoundError:
            return None
        entry = _entry(found)
        return None if entry.deleted else entry

    async def create(self, key: str, value: bytes) -> int:
        return await _call(self._kv.create(key, value))

    async def update(self, key: str, value: bytes, *, last: int) -> int:
        return await _call(self._kv.update(key, value, last=last))

    async def put(self, key: str, value: bytes) -> int:
        return await _call(self._kv.put(key, value))

    async def delete(self, key: str, *, last: int | None = None) -> None:
        with contextlib.suppress(KeyNotFoundError):
            await _call(self._kv.delete(key, last=last))

    @contextlib.asynccontextmanager
    async def watch(self, pattern: str) -> AsyncIterator[AsyncIterator[Entry | None]]:
        watcher = await _call(self._kv.watch(pattern))

        async def entries() -> AsyncIterator[Entry | None]:
            with _translated():
                async for found in watcher:
                    yield None if found is None else _entry(found)

        try:
            yield entries()
        finally:
            with contextlib.suppress(*_UNAVAILABLE):
                await watcher.stop()


class JetStreamBuckets:
    """Opens and provisions NATS KV buckets on one connection."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc

    async def open(self, name: str, *, ttl_s: float | None = None) -> JetStreamBucket:
        js = self._nc.jetstream()
        with _translated():
            try:
                return JetStreamBucket(await js.key_value(name))
            except BucketNotFoundError:
                pass
            try:
                kv = await js.create_key_value(bucket=name, ttl=ttl_s, history=1)
            except BadRequestError:  # another replica created it a moment ago
                kv = await js.key_value(name)
        return JetStreamBucket(kv)

    async def ensure(self, name: str, *, ttl_s: float | None, replicas: int) -> None:
        """Create the bucket, or bring its lifetime and direct reads to these settings."""
        js = self._nc.jetstream()
        stream = f"KV_{name}"
        try:
            config = (await js.stream_info(stream)).config
        except NotFoundError:
            await js.create_key_value(
                bucket=name, ttl=ttl_s, history=1, direct=True, replicas=replicas
            )
            return
        ttl = ttl_s or 0.0
        if (config.max_age or 0.0) != ttl or not config.allow_direct:
            window = min(120.0, ttl) if ttl else 120.0
            await js.update_stream(
                config.evolve(max_age=ttl, allow_direct=True, duplicate_window=window)
            )


def _implements_the_port(
    buckets: JetStreamBuckets, bucket: JetStreamBucket
) -> tuple[Buckets, Bucket]:
    return buckets, bucket  # checked by mypy: the adapter keeps the port's signatures
