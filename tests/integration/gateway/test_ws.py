"""WebSocket: several subscriptions on one socket, resume, errors as messages (logs: test_logs_ws.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
import websockets

from flightdeck.events import subjects
from tests.integration.gateway.conftest import CAUSE, Gateway, new_deployment
from tests.support.samples import progressed

pytestmark = pytest.mark.integration


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.unread: list[dict[str, Any]] = []
        self.unread: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        await self.ws.send(msgspec.json.encode(message).decode())

    async def next(self, **match: Any) -> dict[str, Any]:
        """The next message whose fields include ``match`` (others are kept for later)."""
        for i, message in enumerate(self.unread):
            if all(message.get(k) == v for k, v in match.items()):
                return self.unread.pop(i)
        while True:
            message = msgspec.json.decode(await asyncio.wait_for(self.ws.recv(), 20))
            if all(message.get(k) == v for k, v in match.items()):
                return dict(message)
            self.unread.append(message)

    async def events(self, sid: str, count: int) -> list[dict[str, Any]]:
        return [await self.next(type="event", subscriptionId=sid) for _ in range(count)]


def connect(gateway: Gateway, who: str = "acme-read") -> Any:
    return gateway.websocket(who)


async def test_two_pipeline_subscriptions_history_then_live(gateway: Gateway) -> None:
    one, p1 = await new_deployment(gateway.store, progressed(1))
    two, p2 = await new_deployment(gateway.store, progressed(2), progressed(3))
    async with connect(gateway) as ws:
        sock = Socket(ws)
        await sock.send(type="subscribe-to-pipeline", deploymentId=one, subscriptionId="a")
        await sock.next(type="subscribed", subscriptionId="a")
        await sock.send(type="subscribe-to-pipeline", deploymentId=two, fromPosition=p2[0])
        sid = (await sock.next(type="subscribed"))["subscriptionId"]
        got_a = await sock.events("a", 2)
        got_b = await sock.events(sid, 2)
        assert [m["position"] for m in got_a] == p1
        assert [m["position"] for m in got_b] == p2[1:]
        assert got_a[0]["event"] == "stage" and got_a[0]["data"]["deploymentId"] == one
        live = await gateway.store.append(subjects.deployment(one), [progressed(4)], cause=CAUSE)
        assert (await sock.events("a", 1))[0]["position"] == live.last_position
        await sock.send(type="unsubscribe", subscriptionId="a")
        await sock.next(type="unsubscribed", subscriptionId="a")


async def test_errors_are_messages_not_disconnects(gateway: Gateway) -> None:
    foreign, _ = await new_deployment(gateway.store, tenant="globex")
    async with connect(gateway) as ws:
        sock = Socket(ws)
        await ws.send("{not json")
        assert (await sock.next(type="error"))["code"] == "VALIDATION_ERROR"
        await sock.send(type="dance")
        assert (await sock.next(type="error"))["code"] == "VALIDATION_ERROR"
        await sock.send(type="subscribe-to-pipeline", deploymentId=foreign)
        assert (await sock.next(type="error"))["code"] == "DEPLOYMENT_NOT_FOUND"
        await sock.send(type="unsubscribe", subscriptionId="ghost")
        assert (await sock.next(type="error"))["code"] == "NOT_FOUND"
        mine, positions = await new_deployment(gateway.store)
        await sock.send(type="subscribe-to-pipeline", deploymentId=mine, subscriptionId="ok")
        assert (await sock.events("ok", 1))[0]["position"] == positions[0]


async def test_unauthenticated_socket_gets_an_error_then_closes(gateway: Gateway) -> None:
    url = gateway.url.replace("http://", "ws://") + "/api/v1/ws"
    async with websockets.connect(url) as ws:
        message = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 10))
        assert message["code"] == "UNAUTHORIZED"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
