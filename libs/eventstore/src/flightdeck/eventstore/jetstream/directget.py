"""JetStream's direct-get API, as the event store reads with it.

Direct gets read stored messages without creating a consumer: one by a
request (``last_by_subj``, ``next_by_subj``, ``start_time``), many per request
with ``batch`` (ended by a ``204 EOB`` status message), or the last of many
subjects with ``multi_last`` (nats-server 2.11+). Batched replies go to a raw
sink with only the headers a reader needs parsed: no per-message objects.
Nothing here decodes events; :class:`~flightdeck.eventstore.jetstream.store.JetStreamEventStore` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import msgspec
import nats.errors
from nats.aio.msg import Msg

from flightdeck.events import envelope as ce
from flightdeck.events.errors import EventStoreError
from flightdeck.eventstore.jetstream.wire import Client, HeaderParser

MULTI_LAST_SUBJECTS = 1000  # the server answers 413 past 1024 matching subjects
_read_headers = HeaderParser(ce.READ_HEADERS)
_json = msgspec.json.Encoder()

Stored = tuple[bytes, dict[str, str]]
"""A stored message as (data, headers)."""


class TooManySubjects(Exception):
    """A ``multi_last`` filter matched more subjects than the server answers for."""


def subject_of(msg: Msg) -> str:
    """The stored subject of a message from a direct get or a consumer."""
    headers = msg.headers or {}
    return headers.get("Nats-Subject") or msg.subject


class DirectGet:
    """Direct-get requests on one connection.

    Args:
        nc: the connection (the fast client, for its raw sinks).
        timeout: seconds to wait for one reply or batch.
        batch: most messages asked for per request.
    """

    def __init__(self, nc: Client, *, timeout: float, batch: int) -> None:
        self._nc = nc
        self._timeout = timeout
        self.batch = batch

    async def one(self, stream: str, request: dict[str, Any]) -> Msg | None:
        """One stored message by a direct-get request; ``None`` when there is none."""
        try:
            reply = await self._nc.request(
                f"$JS.API.DIRECT.GET.{stream}", _json.encode(request), self._timeout
            )
        except nats.errors.NoRespondersError as exc:
            raise EventStoreError(f"stream {stream} does not answer direct gets") from exc
        status = (reply.headers or {}).get("Status")
        if status == "404":
            return None
        if status:
            raise EventStoreError(f"direct get on {stream} failed with status {status}")
        return reply

    async def batches(
        self, stream: str, request: dict[str, Any], after: int, upto: int | None
    ) -> AsyncGenerator[list[Stored], None]:
        """Stored messages in positions ``(after, upto]`` as (data, headers), one list per
        batched direct-get ``request``. The replies go to a raw sink: no per-message objects."""
        batch: list[Stored] = []
        end: asyncio.Future[dict[str, str]] | None = None

        def collect(data: bytes, raw: bytes) -> None:
            if raw[8:9] == b" ":  # "NATS/1.0 204 EOB": a status, the end of this batch
                headers = _read_headers(raw[raw.find(b"\r\n") + 2 :])
                headers["Status"] = raw[9:12].decode()
                if end is not None and not end.done():
                    end.set_result(headers)
            else:
                batch.append((data, _read_headers(raw[10:])))

        inbox = self._nc.new_inbox()
        sid = await self._nc.subscribe_raw(inbox, collect)
        most = request["batch"]
        request = dict(request, seq=after + 1)
        try:
            while upto is None or request["seq"] <= upto:
                if upto is not None:
                    request["batch"] = min(most, upto - request["seq"] + 1)
                end = asyncio.get_running_loop().create_future()
                await self._nc.publish(
                    f"$JS.API.DIRECT.GET.{stream}", _json.encode(request), reply=inbox
                )
                status = await asyncio.wait_for(end, self._timeout)
                got, batch = batch, []
                # A batch counts matching messages, not positions: trim what passed upto.
                messages = (
                    got if upto is None else [m for m in got if int(m[1]["Nats-Sequence"]) <= upto]
                )
                if messages:
                    request["seq"] = int(messages[-1][1]["Nats-Sequence"]) + 1
                    yield messages
                code = status["Status"]
                if code == "404" or (code == "204" and status.get("Nats-Num-Pending", "0") == "0"):
                    return
                if code != "204":
                    raise EventStoreError(
                        f"read of {request['next_by_subj']} in {stream} failed with status {code}"
                    )
                if len(messages) < len(got) or not messages:
                    return
        finally:
            await self._nc.unsubscribe_raw(sid)

    async def multi_last(self, stream: str, filters: list[str]) -> AsyncIterator[Msg]:
        """The last message of each subject matching ``filters``, paged at a fixed upper
        sequence so the pages form one consistent cut of the stream."""
        inbox = self._nc.new_inbox()
        batch: list[Msg] = []
        end: asyncio.Future[dict[str, str]] | None = None

        async def collect(msg: Msg) -> None:
            headers = msg.headers or {}
            if "Status" in headers:
                if end is not None and not end.done():
                    end.set_result(headers)
            else:
                batch.append(msg)

        sub = await self._nc.subscribe(inbox, cb=collect)
        try:
            request: dict[str, Any] = {"multi_last": filters, "batch": self.batch}
            while True:
                end = asyncio.get_running_loop().create_future()
                await self._nc.publish(
                    f"$JS.API.DIRECT.GET.{stream}", _json.encode(request), reply=inbox
                )
                status = await asyncio.wait_for(end, self._timeout)
                messages, batch = batch, []
                for msg in messages:
                    yield msg
                code = status["Status"]
                if code == "413":
                    raise TooManySubjects
                if code == "404" or status.get("Nats-Num-Pending", "0") == "0" or not messages:
                    return
                if code != "204":
                    raise EventStoreError(
                        f"read of {filters} in {stream} failed with status {code}"
                    )
                last = int((messages[-1].headers or {})["Nats-Sequence"])
                request["seq"] = last + 1
                if upto := status.get("Nats-UpTo-Sequence"):
                    request["up_to_seq"] = int(upto)
        finally:
            await sub.unsubscribe()
