"""History for a new client: stored events of a subject filter after a position, in batches.

The event store's batched direct gets read many events per request without a
consumer and accept wildcards, so one reader serves a deployment (one subject)
and an app's logs (``fd.evt.log.ns.app.*``) alike. Batches are yielded as they
arrive so the first bytes reach the client while the rest is still being read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from flightdeck.events import EventStore, Recorded
from flightdeck.events.streams import stream_for_subject


async def read_batches(
    store: EventStore, subject_filter: str, after: int
) -> AsyncIterator[list[Recorded[Any]]]:
    """Events of ``subject_filter`` after ``after``, oldest first, a batch at a time."""
    chunks = store.read_chunks(stream_for_subject(subject_filter), subject_filter, after=after)
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if chunk.events:
                yield chunk.events
