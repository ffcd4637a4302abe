"""SSE: history then live on one connection, resume by position, fan-out, backpressure.

Every behaviour test runs twice: with the direct path (the hub writes a caught-up
client's events straight to uvicorn's transport) and with the task path only
(``direct_writer`` switched off), so both keep every guarantee.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import msgspec
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from flightdeck.events import subjects
from flightdeck.events.deployments import Colour, DeploymentCompleted
from flightdeck.gateway.entrypoints import sse as sse_entrypoint
from tests.integration.gateway.conftest import CAUSE, Gateway, new_deployment
from tests.support.samples import progressed
from tests.support.slow_clients import read_to_close, silent_get, slow_consumer_cuts
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


class DirectWrites:
    """Counts the chunks the hub wrote straight to a transport."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.count = 0

    def check(self) -> None:
        """The direct path was taken if it was on (so a uvicorn or Litestar upgrade that
        silently disables it fails here), and never if it was off."""
        if self.mode == "direct":
            assert self.count > 0
        else:
            assert self.count == 0


@pytest.fixture(params=["direct", "task"])
def writes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> DirectWrites:
    """Run the test with the direct path (counted) or with the task path only."""
    counter = DirectWrites(request.param)
    if request.param == "task":
        monkeypatch.setattr(sse_entrypoint, "direct_writer", lambda receive: None)
        return counter
    original = sse_entrypoint.UvicornWriter.write

    def counting(self: sse_entrypoint.UvicornWriter, chunk: bytes) -> bool:
        wrote = original(self, chunk)
        counter.count += wrote
        return wrote

    monkeypatch.setattr(sse_entrypoint.UvicornWriter, "write", counting)
    return counter


async def append(gw: Gateway, dep: str, *events: Any) -> list[int]:
    result = await gw.store.append(subjects.deployment(dep), list(events), cause=CAUSE)
    return list(range(result.first_position, result.last_position + 1))


class Reader:
    """One SSE client reading in the background; ``events`` grows as they arrive."""

    def __init__(
        self,
        gw: Gateway,
        path: str,
        headers: dict[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.gw, self.path, self.client = gw, path, client
        self.headers = {**gw.auth(), **(headers or {})}
        self.events: list[ServerSentEvent] = []
        self.comments = 0
        self.closed = False
        self.status: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Reader:
        self._task = asyncio.create_task(self._run())
        await eventually(self._started)
        return self

    async def _started(self) -> bool:
        return self.status is not None

    async def _run(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            client = self.client or await stack.enter_async_context(
                httpx.AsyncClient(base_url=self.gw.url, timeout=60)
            )
            source = await stack.enter_async_context(
                aconnect_sse(client, "GET", self.path, headers=self.headers)
            )
            self.status = source.response.status_code
            async for sse in source.aiter_sse():
                if sse.event == "message" and not sse.data:
                    continue
                self.events.append(sse)
        self.closed = True

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    def ids(self) -> list[int]:
        return [int(e.id) for e in self.events if e.id]

    async def wait_for(self, count: int) -> list[int]:
        async def enough() -> bool:
            return len(self.ids()) >= count

        await eventually(enough)
        return self.ids()


async def test_history_then_live_in_order(gateway: Gateway, writes: DirectWrites) -> None:
    # arrange
    dep, positions = await new_deployment(gateway.store, *[progressed(n) for n in range(5)])
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as reader:
        assert reader.status == 200
        assert await reader.wait_for(6) == positions
        # act
        live = await append(gateway, dep, progressed(5), progressed(6))
        # assert
        assert await reader.wait_for(8) == positions + live
    writes.check()
    first = msgspec.json.decode(reader.events[0].data)
    assert reader.events[0].event == "stage"
    assert first["deploymentId"] == dep
    assert first["stage"] == "requested"
    assert msgspec.json.decode(reader.events[1].data)["message"] == "pod 0 ready"


async def test_resume_mid_history_with_last_event_id_header(
    gateway: Gateway, writes: DirectWrites
) -> None:
    dep, positions = await new_deployment(gateway.store, *[progressed(n) for n in range(6)])
    headers = {"Last-Event-ID": str(positions[2])}
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events", headers) as reader:
        assert await reader.wait_for(4) == positions[3:]
        live = await append(gateway, dep, progressed(9))
        assert await reader.wait_for(5) == positions[3:] + live


async def test_resume_mid_live_gives_exactly_the_missing_events(
    gateway: Gateway, writes: DirectWrites
) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0))
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as reader:
        first_live = await append(gateway, dep, progressed(1), progressed(2))
        seen = await reader.wait_for(4)
    assert seen == positions + first_live
    missed = await append(gateway, dep, progressed(3), progressed(4), progressed(5))
    query = f"/api/v1/deploy/{dep}/events?lastEventId={seen[-1]}"
    async with Reader(gateway, query) as again:
        assert await again.wait_for(3) == missed
        more = await append(gateway, dep, progressed(6))
        assert await again.wait_for(4) == missed + more


async def test_done_event_then_the_stream_closes(gateway: Gateway, writes: DirectWrites) -> None:
    done = DeploymentCompleted(
        colour=Colour.GREEN, url="http://web.local", stage_durations_ms={}, total_duration_ms=9
    )
    dep, positions = await new_deployment(gateway.store, progressed(0), done)
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as reader:
        assert await reader.wait_for(3) == positions

        async def closed() -> bool:
            return reader.closed

        await eventually(closed)
    assert reader.events[-1].event == "done"
    body = msgspec.json.decode(reader.events[-1].data)
    assert body["status"] == "SUCCEEDED"
    assert body["url"] == "http://web.local"


async def test_retry_and_heartbeat_are_sent(gateway: Gateway, writes: DirectWrites) -> None:
    dep, _ = await new_deployment(gateway.store)
    async with (
        httpx.AsyncClient(base_url=gateway.url, headers=gateway.auth(), timeout=30) as client,
        client.stream("GET", f"/api/v1/deploy/{dep}/events") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        seen = b""
        async for chunk in response.aiter_bytes():
            seen += chunk
            if b": heartbeat" in seen:
                break
    assert seen.startswith(b"retry: ")


async def test_two_hundred_clients_receive_every_event_in_order(
    gateway: Gateway, writes: DirectWrites
) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0))
    limits = httpx.Limits(max_connections=250)
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=60, limits=limits) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        readers = [
            Reader(gateway, f"/api/v1/deploy/{dep}/events", client=client) for _ in range(200)
        ]
        await asyncio.gather(*(stack.enter_async_context(r) for r in readers))
        live: list[int] = []
        for n in range(10):
            live += await append(gateway, dep, progressed(n + 1), progressed(n + 100))
        expected = positions + live
        for reader in readers:
            assert await reader.wait_for(len(expected)) == expected
    writes.check()


async def test_a_slow_client_is_cut_off_while_fast_ones_keep_up(
    gateway: Gateway, writes: DirectWrites
) -> None:
    # arrange: one client that never reads, two that do; big events fill buffers fast
    dep, positions = await new_deployment(gateway.store)
    cut_before = slow_consumer_cuts(gateway.built.dependencies.metrics)
    slow = silent_get(gateway.url, f"/api/v1/deploy/{dep}/events", gateway.tokens["acme-admin"])
    try:
        async with (
            Reader(gateway, f"/api/v1/deploy/{dep}/events") as fast1,
            Reader(gateway, f"/api/v1/deploy/{dep}/events") as fast2,
        ):
            await fast1.wait_for(1)
            # act
            big = "x" * 60_000
            live: list[int] = []
            for n in range(400):
                event = msgspec.structs.replace(progressed(n), message=big)
                live += await append(gateway, dep, event)

                async def cut() -> bool:
                    return slow_consumer_cuts(gateway.built.dependencies.metrics) > cut_before

                if await cut():
                    break
            # assert: the slow one was dropped, the fast ones got everything
            await eventually(cut)
            expected = positions + live
            assert await fast1.wait_for(len(expected)) == expected
            assert await fast2.wait_for(len(expected)) == expected
        received = await read_to_close(slow)
        assert received.startswith(b"HTTP/1.1 200")
    finally:
        slow.close()


async def test_a_live_done_event_closes_the_stream(gateway: Gateway, writes: DirectWrites) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0))
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as reader:
        await reader.wait_for(len(positions))
        live = await append(gateway, dep, progressed(1))
        await reader.wait_for(len(positions) + 1)
        done = DeploymentCompleted(
            colour=Colour.BLUE, url=None, stage_durations_ms={}, total_duration_ms=1
        )
        live += await append(gateway, dep, done)

        async def closed() -> bool:
            return reader.closed

        await eventually(closed)
    assert reader.ids() == positions + live
    assert reader.events[-1].event == "done"
    writes.check()


async def test_clients_joining_while_events_flow_get_each_event_once(
    gateway: Gateway, writes: DirectWrites
) -> None:
    """The seam under load: clients attach mid-burst, replay, and go live on the direct path."""
    dep, positions = await new_deployment(gateway.store, progressed(0))
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=60) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        readers: list[Reader] = []
        live: list[int] = []
        for n in range(40):
            live += await append(gateway, dep, progressed(n + 1))
            if n % 2 == 0:
                reader = Reader(gateway, f"/api/v1/deploy/{dep}/events", client=client)
                readers.append(await stack.enter_async_context(reader))
        expected = positions + live
        for reader in readers:
            assert await reader.wait_for(len(expected)) == expected
    writes.check()


async def test_a_cut_off_client_resumes_from_its_position_without_gap_or_duplicate(
    gateway: Gateway, writes: DirectWrites
) -> None:
    # arrange: a client that reads nothing until it has been cut off
    dep, positions = await new_deployment(gateway.store)
    cut_before = slow_consumer_cuts(gateway.built.dependencies.metrics)
    slow = silent_get(gateway.url, f"/api/v1/deploy/{dep}/events", gateway.tokens["acme-admin"])
    try:
        async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as fast:
            await fast.wait_for(1)
            big = "x" * 60_000
            live: list[int] = []
            for n in range(400):
                event = msgspec.structs.replace(progressed(n), message=big)
                live += await append(gateway, dep, event)
                if slow_consumer_cuts(gateway.built.dependencies.metrics) > cut_before:
                    break
            assert slow_consumer_cuts(gateway.built.dependencies.metrics) > cut_before
            more = await append(gateway, dep, progressed(1000), progressed(1001))
            expected = positions + live + more
            assert await fast.wait_for(len(expected)) == expected
        # act: read everything the cut-off client was sent, then resume where it says
        seen, resume_from = _sse_ids(await read_to_close(slow))
        assert seen == expected[: len(seen)]  # a prefix: in order, no gap, no duplicate
        if resume_from is not None:  # the final SLOW_CONSUMER event arrived
            assert resume_from == (seen[-1] if seen else 0)
        after = str(seen[-1]) if seen else "0"
        async with Reader(
            gateway, f"/api/v1/deploy/{dep}/events", {"Last-Event-ID": after}
        ) as again:
            rest = await again.wait_for(len(expected) - len(seen))
        # assert
        assert seen + rest == expected
    finally:
        slow.close()


def _sse_ids(raw: bytes) -> tuple[list[int], int | None]:
    """The ids of the complete events in a raw chunked SSE response, and the
    ``resumeFrom`` of a final ``SLOW_CONSUMER`` event if there is one."""
    _, _, rest = raw.partition(b"\r\n\r\n")
    body = b""
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep or not size_line:
            break
        size = int(size_line, 16)
        if size == 0 or len(rest) < size:
            body += rest[:size]
            break
        body += rest[:size]
        rest = rest[size + 2 :]
    ids: list[int] = []
    resume_from = None
    for block in body.split(b"\n\n")[:-1]:  # the last piece is incomplete or empty
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if line and b": " in line)
        if b"id" in fields:
            ids.append(int(fields[b"id"]))
        elif fields.get(b"event") == b"error":
            payload = msgspec.json.decode(fields[b"data"])
            assert payload["errorCode"] == "SLOW_CONSUMER"
            resume_from = payload["resumeFrom"]
    return ids, resume_from
