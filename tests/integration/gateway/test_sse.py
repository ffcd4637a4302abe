"""SSE: history then live on one connection, resume by position, fan-out, backpressure."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import httpx
import msgspec
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from flightdeck.events import subjects
from flightdeck.events.deployments import Colour, DeploymentCompleted
from tests.integration.gateway.conftest import CAUSE, Gateway, eventually, new_deployment
from tests.support.samples import progressed

pytestmark = pytest.mark.integration


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


async def test_history_then_live_in_order(gateway: Gateway) -> None:
    # arrange
    dep, positions = await new_deployment(gateway.store, *[progressed(n) for n in range(5)])
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events") as reader:
        assert reader.status == 200
        assert await reader.wait_for(6) == positions
        # act
        live = await append(gateway, dep, progressed(5), progressed(6))
        # assert
        assert await reader.wait_for(8) == positions + live
    first = msgspec.json.decode(reader.events[0].data)
    assert reader.events[0].event == "stage"
    assert first["deploymentId"] == dep
    assert first["stage"] == "requested"
    assert msgspec.json.decode(reader.events[1].data)["message"] == "pod 0 ready"


async def test_resume_mid_history_with_last_event_id_header(gateway: Gateway) -> None:
    dep, positions = await new_deployment(gateway.store, *[progressed(n) for n in range(6)])
    headers = {"Last-Event-ID": str(positions[2])}
    async with Reader(gateway, f"/api/v1/deploy/{dep}/events", headers) as reader:
        assert await reader.wait_for(4) == positions[3:]
        live = await append(gateway, dep, progressed(9))
        assert await reader.wait_for(5) == positions[3:] + live


async def test_resume_mid_live_gives_exactly_the_missing_events(gateway: Gateway) -> None:
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


async def test_done_event_then_the_stream_closes(gateway: Gateway) -> None:
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


async def test_retry_and_heartbeat_are_sent(gateway: Gateway) -> None:
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


async def test_two_hundred_clients_receive_every_event_in_order(gateway: Gateway) -> None:
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


def _raw_get(gateway: Gateway, path: str) -> socket.socket:
    """A client that sends its request and then reads nothing, with a tiny receive window."""
    host, port = gateway.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    token = gateway.tokens["acme-admin"]
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


async def test_a_slow_client_is_cut_off_while_fast_ones_keep_up(gateway: Gateway) -> None:
    # arrange: one client that never reads, two that do; big events fill buffers fast
    dep, positions = await new_deployment(gateway.store)
    cut_before = _slow_cuts(gateway)
    slow = _raw_get(gateway, f"/api/v1/deploy/{dep}/events")
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
                    return _slow_cuts(gateway) > cut_before

                if await cut():
                    break
            # assert: the slow one was dropped, the fast ones got everything
            await eventually(cut)
            expected = positions + live
            assert await fast1.wait_for(len(expected)) == expected
            assert await fast2.wait_for(len(expected)) == expected
        slow.setblocking(False)
        received = await _drain(slow)
        assert received.startswith(b"HTTP/1.1 200")
    finally:
        slow.close()


def _slow_cuts(gateway: Gateway) -> float:
    counter = gateway.deps.metrics.errors.labels(code="SLOW_CONSUMER")
    return float(counter._value.get())


async def _drain(sock: socket.socket) -> bytes:
    """Read until the server closes (it must, having cut the client off)."""
    loop = asyncio.get_running_loop()
    out = b""
    while True:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 30)
        if not chunk:
            return out
        out += chunk
