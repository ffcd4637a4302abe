"""Watch streams: JSON lines of ADDED/MODIFIED/DELETED, bookmarks, 410 Expired.

Selectors apply to transitions as on a real server: an object that stops
matching is sent as DELETED, one that starts matching as ADDED. Everything
queued when the stream wakes is written as one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from flightdeck.sandbox import asgi, selectors, status, tables
from flightdeck.sandbox.media import Wanted
from flightdeck.sandbox.resources import ResourceType
from flightdeck.sandbox.store import Change, Expired, Obj, Store

DEFAULT_TIMEOUT = 1800.0


@dataclass(frozen=True)
class WatchQuery:
    since: int | None  # None: send the current state first
    labels: selectors.Selector
    fields: tuple[selectors.FieldRequirement, ...]
    timeout: float
    bookmarks: bool
    initial_events_end: bool
    wanted: Wanted
    include: str


def _matches(query: WatchQuery, obj: Obj | None) -> bool:
    return (
        obj is not None
        and selectors.matches_labels(query.labels, obj["metadata"].get("labels"))
        and selectors.matches_fields(query.fields, obj)
    )


def project(change: Change, query: WatchQuery) -> tuple[str, Obj] | None:
    """The event a watcher with these selectors sees for a change, if any."""
    now_matches = _matches(query, change.obj)
    if change.type == "ADDED":
        return ("ADDED", change.obj) if now_matches else None
    if change.type == "DELETED":
        return ("DELETED", change.obj) if _matches(query, change.old or change.obj) else None
    was = _matches(query, change.old)
    if was and now_matches:
        return "MODIFIED", change.obj
    if now_matches:
        return "ADDED", change.obj
    if was:
        return "DELETED", change.obj
    return None


class WatchStream:
    """One watch connection over the store, as an async generator of chunks."""

    def __init__(
        self,
        store: Store,
        rtype: ResourceType,
        namespace: str,
        query: WatchQuery,
        bookmark_every: float,
        transform: Callable[[Obj], Obj] | None = None,
    ) -> None:
        self.store, self.rtype, self.namespace, self.query = store, rtype, namespace, query
        self.bookmark_every = bookmark_every
        self.transform = transform

    def _line(self, event_type: str, obj: Obj) -> bytes:
        if self.transform is not None:
            obj = self.transform(obj)
        if self.query.wanted.form == "table":
            obj = tables.table(
                self.rtype.key,
                [obj],
                obj["metadata"].get("resourceVersion", ""),
                include=self.query.include,
                version=self.query.wanted.version,
            )
        elif self.query.wanted.form == "partial":
            obj = {
                "kind": "PartialObjectMetadata",
                "apiVersion": f"meta.k8s.io/{self.query.wanted.version}",
                "metadata": obj["metadata"],
            }
        return asgi.encode({"type": event_type, "object": obj}) + b"\n"

    def _bookmark(self, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.store.rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return (
            asgi.encode(
                {
                    "type": "BOOKMARK",
                    "object": {
                        "kind": self.rtype.kind,
                        "apiVersion": self.rtype.api_version,
                        "metadata": meta,
                    },
                }
            )
            + b"\n"
        )

    def _render(self, changes: list[Change]) -> bytes:
        out = bytearray()
        for change in changes:
            if (event := project(change, self.query)) is not None:
                out += self._line(*event)
        return bytes(out)

    async def events(self) -> AsyncGenerator[bytes, None]:
        try:
            replay, watcher = self.store.watch(
                self.rtype.key, self.namespace or None, self.query.since
            )
        except Expired as exc:
            yield asgi.encode({"type": "ERROR", "object": status.expired(str(exc))}) + b"\n"
            return
        try:
            first = self._render(replay)
            if self.query.initial_events_end and self.query.since is None:
                first += self._bookmark(initial_end=True)
            if first:
                yield first
            async for chunk in self._live(watcher):
                yield chunk
        finally:
            self.store.unwatch(watcher)

    async def _live(self, watcher: Any) -> AsyncGenerator[bytes, None]:
        deadline = time.monotonic() + self.query.timeout
        next_bookmark = time.monotonic() + self.bookmark_every
        while not watcher.closed or watcher.pending:
            now = time.monotonic()
            if now >= deadline:
                return
            wait_until = min(deadline, next_bookmark) if self.query.bookmarks else deadline
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watcher.wake.wait(), max(wait_until - now, 0.0))
            chunk = self._render(watcher.drain())
            if self.query.bookmarks and time.monotonic() >= next_bookmark:
                chunk += self._bookmark()
                next_bookmark = time.monotonic() + self.bookmark_every
            if chunk:
                yield chunk
