"""History for a new client: stored events of a subject filter after a position, in batches.

The event store's batched direct gets read many events per request without a
consumer and accept wildcards, so one reader serves a deployment (one subject)
and an app's logs (``fd.evt.log.ns.app.*``) alike. Batches are yielded as they
arrive so the first bytes reach the client while the rest is still being read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.streams import stream_for_subject
from flightdeck.eventstore import EventStore


async def read_batches(
    store: EventStore,
    subject_filter: str,
    after: int,
    upto: int | None = None,
    *,
    batch: int | None = None,
    max_bytes: int | None = None,
) -> AsyncGenerator[list[Recorded[Any]], None]:
    """Events of ``subject_filter`` in ``(after, upto]``, oldest first, a batch at a time;
    ``batch`` and ``max_bytes`` bound each request (the store's defaults otherwise)."""
    chunks = store.read_chunks(
        stream_for_subject(subject_filter),
        subject_filter,
        after=after,
        upto=upto,
        batch=batch,
        max_bytes=max_bytes,
    )
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if chunk.events:
                yield chunk.events
