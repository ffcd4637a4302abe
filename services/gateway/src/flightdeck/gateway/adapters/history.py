"""History for a new client: stored events of a subject filter after a position, in batches.

Batched direct gets (``next_by_subj`` + ``batch``) read many events per
request without creating a consumer, and accept wildcards, so one reader
serves a deployment (one subject) and an app's logs (``fd.evt.log.ns.app.*``)
alike. Batches are yielded as they arrive so the first bytes reach the client
while the rest is still being read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from nats.aio.msg import Msg

from flightdeck.events import EventDecodeError, EventStore, EventStoreError, Recorded
from flightdeck.events.streams import stream_for_subject

_json = msgspec.json.Encoder()


def subject_of(msg: Msg) -> str:
    """The stored subject of a direct-get reply (the reply's own subject is the inbox)."""
    return (msg.headers or {}).get("Nats-Subject") or msg.subject


async def read_batches(
    store: EventStore,
    subject_filter: str,
    after: int,
    *,
    batch: int = 2_000,
    timeout: float = 5.0,
) -> AsyncIterator[list[Recorded[Any]]]:
    """Events of ``subject_filter`` after ``after``, oldest first, a batch at a time."""
    stream = stream_for_subject(subject_filter)
    chunks = getattr(store, "read_chunks", None)
    if chunks is not None:  # the event store's raw, allocation-light reader
        async for chunk in chunks(stream, subject_filter, after=after):
            if chunk.events:
                yield chunk.events
        return
    nc = store.nc
    inbox = nc.new_inbox()
    got: list[Msg] = []
    end: asyncio.Future[dict[str, str]] | None = None

    async def collect(msg: Msg) -> None:
        headers = msg.headers or {}
        if "Status" in headers:
            if end is not None and not end.done():
                end.set_result(headers)
        else:
            got.append(msg)

    sub = await nc.subscribe(inbox, cb=collect)
    try:
        start = after + 1
        while True:
            end = asyncio.get_running_loop().create_future()
            request = {"seq": start, "next_by_subj": subject_filter, "batch": batch}
            await nc.publish(f"$JS.API.DIRECT.GET.{stream}", _json.encode(request), reply=inbox)
            status = await asyncio.wait_for(end, timeout)
            messages, got[:] = list(got), []
            out = []
            for msg in messages:
                headers = msg.headers or {}
                position = int(headers["Nats-Sequence"])
                start = position + 1
                try:
                    out.append(
                        store.codec.decode(stream, subject_of(msg), msg.data, headers, position)
                    )
                except EventDecodeError:
                    continue
            if out:
                yield out
            code = status["Status"]
            if code == "404" or (code == "204" and status.get("Nats-Num-Pending", "0") == "0"):
                return
            if code != "204":
                raise EventStoreError(f"read of {subject_filter} failed with status {code}")
    finally:
        await sub.unsubscribe()


async def first_event(
    store: EventStore, subject: str, timeout: float = 5.0
) -> Recorded[Any] | None:
    """The oldest stored event of ``subject`` (one direct get), or ``None`` if it has none."""
    stream = stream_for_subject(subject)
    request = _json.encode({"seq": 1, "next_by_subj": subject})
    reply = await store.nc.request(f"$JS.API.DIRECT.GET.{stream}", request, timeout)
    headers = reply.headers or {}
    if headers.get("Status"):
        return None
    position = int(headers["Nats-Sequence"])
    try:
        return store.codec.decode(stream, subject_of(reply), reply.data, headers, position)
    except EventDecodeError:
        return None
