"""The relay's shared state in NATS KV buckets: leases, members, cursors and follow rules.

- **Leases** (bucket with a TTL): one key per followed container. Creating it
  (possible only when absent or expired) acquires it, updating it with the
  revision last written renews it; replicas never follow a container twice.
- **Members** (same bucket): each replica re-puts ``member.<id>`` every renewal,
  and watches the others', so all agree who is alive (see ``domain.sharing``).
- **Cursors** (no TTL): where each container's relayed log ends, written after
  every acknowledged batch, read by whoever follows the container next.
- **Rules** (no TTL): the relay's standing ``FollowLogs``/``UnfollowLogs`` orders.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.selection import ContainerKey, FollowRule

log = structlog.get_logger(__name__)

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
NATS_TROUBLE = (nats.errors.Error, TimeoutError, OSError)


def key_token(value: str) -> str:
    """``value`` as one KV key token: other characters (``.`` in pod names…) as ``=XX``."""
    if value and all(ch in _SAFE for ch in value):
        return value
    return (
        "".join(ch if ch in _SAFE else "".join(f"={b:02X}" for b in ch.encode()) for ch in value)
        or "="
    )


def container_token(key: ContainerKey) -> str:
    return f"{key_token(key.namespace)}.{key_token(key.pod)}.{key_token(key.container)}"


async def open_bucket(js: JetStreamContext, name: str, ttl_s: float | None = None) -> KeyValue:
    """The bucket ``name``, created (history 1, ``ttl_s`` if given) when missing."""
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        pass
    try:
        return await js.create_key_value(bucket=name, ttl=ttl_s, history=1)
    except BadRequestError:  # another replica created it a moment ago
        return await js.key_value(name)


class Leases:
    """Per-container leases held by ``holder``.

    Args:
        kv: the lease bucket (its TTL is the lease duration).
        holder: this replica's id, written as the value.
    """

    def __init__(self, kv: KeyValue, holder: str) -> None:
        self._kv = kv
        self.holder = holder
        self._revisions: dict[ContainerKey, int] = {}

    @staticmethod
    def _key(key: ContainerKey) -> str:
        return f"lease.{container_token(key)}"

    async def acquire(self, key: ContainerKey) -> bool:
        """Take the lease if nobody holds it (or this holder did, before a restart)."""
        name, value = self._key(key), self.holder.encode()
        try:
            revision = await self._kv.create(name, value)
        except KeyWrongLastSequenceError:
            try:
                entry = await self._kv.get(name)
                if entry.value != value or entry.revision is None:
                    return False
                revision = await self._kv.update(name, value, last=entry.revision)
            except (KeyNotFoundError, KeyWrongLastSequenceError, *NATS_TROUBLE):
                return False
        except NATS_TROUBLE:
            return False
        self._revisions[key] = revision
        return True

    async def renew(self, key: ContainerKey) -> bool | None:
        """``True``: still ours. ``False``: someone else's now. ``None``: NATS did not answer."""
        revision = self._revisions.get(key)
        if revision is None:
            return False
        try:
            self._revisions[key] = await self._kv.update(
                self._key(key), self.holder.encode(), last=revision
            )
        except KeyWrongLastSequenceError:
            self._revisions.pop(key, None)
            return False
        except NATS_TROUBLE:
            return None
        return True

    async def release(self, key: ContainerKey) -> None:
        """Give the lease up so another replica can take it at once (it expires anyway)."""
        revision = self._revisions.pop(key, None)
        if revision is not None:
            with contextlib.suppress(KeyWrongLastSequenceError, *NATS_TROUBLE):
                await self._kv.delete(self._key(key), last=revision)

    def forget(self, key: ContainerKey) -> None:
        """Stop renewing ``key`` without touching the bucket (it was lost)."""
        self._revisions.pop(key, None)


class Members:
    """The live relay replicas, as every replica sees them.

    Args:
        kv: the lease bucket; a member is alive while its key is fresher than ``ttl_s``.
        me: this replica's id.
        group: what this replica follows (its scope); only replicas configured alike
            share containers, so one that never follows a namespace is never its owner.
    """

    _PREFIX = "member."

    def __init__(self, kv: KeyValue, me: str, ttl_s: float, group: str = "") -> None:
        self._kv = kv
        self.me = me
        self._ttl = ttl_s
        self._group = group
        self._seen: dict[str, tuple[datetime, datetime, bool]] = {}  # id -> first, last, full

    async def beat(self, full: bool) -> None:
        """Say this replica is alive (and whether it can take more containers)."""
        value = msgspec.json.encode({"id": self.me, "full": full, "group": self._group})
        with contextlib.suppress(*NATS_TROUBLE):
            await self._kv.put(self._PREFIX + key_token(self.me), value)

    async def leave(self) -> None:
        """Say this replica is gone, so its share moves at once rather than after the TTL."""
        with contextlib.suppress(KeyNotFoundError, *NATS_TROUBLE):
            await self._kv.delete(self._PREFIX + key_token(self.me))

    async def watch(self, ready: asyncio.Event) -> None:
        """Follow the members' keys until cancelled; ``ready`` once the current ones are in."""
        watcher = await self._kv.watch(self._PREFIX + "*")
        try:
            async for entry in watcher:
                if entry is None:
                    ready.set()
                    continue
                self._note(entry)
        finally:
            with contextlib.suppress(*NATS_TROUBLE):
                await watcher.stop()

    def _note(self, entry: KeyValue.Entry) -> None:
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            self._seen.pop(entry.key[len(self._PREFIX) :], None)
            return
        info = msgspec.json.decode(entry.value)
        member = str(info.get("id", ""))
        if info.get("group", "") != self._group:
            self._seen.pop(member, None)
            return
        now = datetime.now(UTC)
        stamped = entry.created if isinstance(entry.created, datetime) else now
        last = min(stamped, now)
        first = self._seen[member][0] if member in self._seen else last
        self._seen[member] = (first, last, bool(info.get("full")))

    def alive(self, *, settled_s: float = 0.0) -> list[str]:
        """Members seen within the TTL that can take containers; with ``settled_s``, only
        those known for at least that long (so one heartbeat does not move work)."""
        now = datetime.now(UTC)
        return sorted(
            member
            for member, (first, last, full) in self._seen.items()
            if (now - last).total_seconds() < self._ttl
            and (now - first).total_seconds() >= settled_s
            and (not full or member == self.me)
        ) or [self.me]


class Cursors:
    """Resume cursors by container (bucket without TTL)."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self._decode = msgspec.json.Decoder(Cursor).decode

    @staticmethod
    def _key(key: ContainerKey) -> str:
        return f"cursor.{container_token(key)}"

    async def load(self, key: ContainerKey) -> Cursor | None:
        try:
            entry = await self._kv.get(self._key(key))
        except KeyNotFoundError:
            return None
        if not entry.value or entry.operation in (KV_DEL, KV_PURGE):
            return None
        try:
            return self._decode(entry.value)
        except msgspec.DecodeError:
            log.warning("unreadable cursor, starting afresh", container=str(key))
            return None

    async def save(self, key: ContainerKey, cursor: Cursor) -> None:
        await self._kv.put(self._key(key), msgspec.json.encode(cursor))

    async def delete(self, key: ContainerKey) -> None:
        with contextlib.suppress(KeyNotFoundError, *NATS_TROUBLE):
            await self._kv.delete(self._key(key))


RuleChanged = Callable[[tuple[str, str], FollowRule | None], None]


class RulesStore:
    """Standing follow orders by (namespace, app), written by the command handlers."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self._decode = msgspec.json.Decoder(FollowRule).decode

    @staticmethod
    def _key(namespace: str, app: str) -> str:
        return f"rule.{key_token(namespace)}.{key_token(app)}"

    async def put(self, rule: FollowRule) -> None:
        await self._kv.put(self._key(rule.namespace, rule.app), msgspec.json.encode(rule))

    async def watch(self, changed: RuleChanged, ready: asyncio.Event) -> None:
        """Report every rule, then every change, until cancelled; ``ready`` after the first."""
        watcher = await self._kv.watch("rule.>")
        try:
            async for entry in watcher:
                if entry is None:
                    ready.set()
                    continue
                self._apply(entry, changed)
        finally:
            with contextlib.suppress(*NATS_TROUBLE):
                await watcher.stop()

    def _apply(self, entry: KeyValue.Entry, changed: RuleChanged) -> None:
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            return  # rules are overwritten, never deleted; nothing to undo without the value
        try:
            rule = self._decode(entry.value)
        except msgspec.DecodeError:
            log.warning("unreadable follow rule", key=entry.key)
            return
        changed((rule.namespace, rule.app), rule)
