"""The relay's shared state in KV buckets (NATS KV): leases, members, cursors and follow rules.

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
import structlog

from flightdeck.eventstore import Bucket, BucketError, BucketUnavailable, Entry, WrongRevision
from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.selection import ContainerKey, FollowRule

log = structlog.get_logger(__name__)

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


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


class Leases:
    """Per-container leases held by ``holder``.

    Args:
        kv: the lease bucket (its TTL is the lease duration).
        holder: this replica's id, written as the value.
    """

    def __init__(self, kv: Bucket, holder: str) -> None:
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
        except WrongRevision:
            try:
                entry = await self._kv.get(name)
                if entry is None or entry.value != value:
                    return False
                revision = await self._kv.update(name, value, last=entry.revision)
            except BucketError:
                return False
        except BucketUnavailable:
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
        except WrongRevision:
            self._revisions.pop(key, None)
            return False
        except BucketUnavailable:
            return None
        return True

    async def release(self, key: ContainerKey) -> None:
        """Give the lease up so another replica can take it at once (it expires anyway)."""
        revision = self._revisions.pop(key, None)
        if revision is not None:
            with contextlib.suppress(BucketError):
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

    def __init__(self, kv: Bucket, me: str, ttl_s: float, group: str = "") -> None:
        self._kv = kv
        self.me = me
        self._ttl = ttl_s
        self._group = group
        self._seen: dict[str, tuple[datetime, datetime, bool]] = {}  # id -> first, last, full

    async def beat(self, full: bool) -> None:
        """Say this replica is alive (and whether it can take more containers)."""
        value = msgspec.json.encode({"id": self.me, "full": full, "group": self._group})
        with contextlib.suppress(BucketUnavailable):
            await self._kv.put(self._PREFIX + key_token(self.me), value)

    async def leave(self) -> None:
        """Say this replica is gone, so its share moves at once rather than after the TTL."""
        with contextlib.suppress(BucketUnavailable):
            await self._kv.delete(self._PREFIX + key_token(self.me))

    async def watch(self, ready: asyncio.Event) -> None:
        """Follow the members' keys until cancelled; ``ready`` once the current ones are in."""
        async with self._kv.watch(self._PREFIX + "*") as entries:
            async for entry in entries:
                if entry is None:
                    ready.set()
                    continue
                self._note(entry)

    def _note(self, entry: Entry) -> None:
        if entry.deleted or not entry.value:
            self._seen.pop(entry.key[len(self._PREFIX) :], None)
            return
        info = msgspec.json.decode(entry.value)
        member = str(info.get("id", ""))
        if info.get("group", "") != self._group:
            self._seen.pop(member, None)
            return
        now = datetime.now(UTC)
        stamped = entry.created or now
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

    def __init__(self, kv: Bucket) -> None:
        self._kv = kv
        self._decode = msgspec.json.Decoder(Cursor).decode

    @staticmethod
    def _key(key: ContainerKey) -> str:
        return f"cursor.{container_token(key)}"

    async def load(self, key: ContainerKey) -> Cursor | None:
        entry = await self._kv.get(self._key(key))
        if entry is None or not entry.value:
            return None
        try:
            return self._decode(entry.value)
        except msgspec.DecodeError:
            log.warning("unreadable cursor, starting afresh", container=str(key))
            return None

    async def save(self, key: ContainerKey, cursor: Cursor) -> None:
        await self._kv.put(self._key(key), msgspec.json.encode(cursor))

    async def delete(self, key: ContainerKey) -> None:
        with contextlib.suppress(BucketUnavailable):
            await self._kv.delete(self._key(key))


RuleChanged = Callable[[tuple[str, str], FollowRule | None], None]


class RulesStore:
    """Standing follow orders by (namespace, app), written by the command handlers."""

    def __init__(self, kv: Bucket) -> None:
        self._kv = kv
        self._decode = msgspec.json.Decoder(FollowRule).decode

    @staticmethod
    def _key(namespace: str, app: str) -> str:
        return f"rule.{key_token(namespace)}.{key_token(app)}"

    async def put(self, rule: FollowRule) -> None:
        await self._kv.put(self._key(rule.namespace, rule.app), msgspec.json.encode(rule))

    async def watch(self, changed: RuleChanged, ready: asyncio.Event) -> None:
        """Report every rule, then every change, until cancelled; ``ready`` after the first."""
        async with self._kv.watch("rule.>") as entries:
            async for entry in entries:
                if entry is None:
                    ready.set()
                    continue
                self._apply(entry, changed)

    def _apply(self, entry: Entry, changed: RuleChanged) -> None:
        if entry.deleted or not entry.value:
            return  # rules are overwritten, never deleted; nothing to undo without the value
        try:
            rule = self._decode(entry.value)
        except msgspec.DecodeError:
            log.warning("unreadable follow rule", key=entry.key)
            return
        changed((rule.namespace, rule.app), rule)
