"""The gateway's limits (issue 12, finding 6; ADR 0016): per tenant and global, each refusal
speaking of the caller's tenant only; WebSocket messages, subscriptions and history bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import AsyncExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import websockets

from flightdeck.events import streams
from flightdeck.gateway.domain.limits import Limit
from tests.integration.gateway.conftest import Gateway, home, new_deployment
from tests.integration.gateway.test_logs_world import make_app, many, publish, unique_app
from tests.integration.gateway.test_rest import IMAGE_DEPLOY, assert_error
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@contextmanager
def swapped(owner: Any, name: str, value: Any) -> Iterator[None]:
    """``owner.name`` is ``value`` for a while: a limit of the running gateway."""
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def deploy_limit(gateway: Gateway, limit: Limit) -> ContextManager[None]:
    return swapped(gateway.built.admission, "limit", limit)


def history_limit(gateway: Gateway, lines: int) -> ContextManager[None]:
    return swapped(gateway.built.dependencies.logs, "max_history_lines", lines)


async def caught_up(gateway: Gateway) -> None:
    """The read model holds every deployment appended so far (counts stop moving)."""
    target = await gateway.store.stream_last_position(streams.DEPLOYMENTS)

    async def done() -> bool:
        return await gateway.built.read_model.projected_upto(streams.DEPLOYMENTS) >= target

    await eventually(done)


GLOBEX_DEPLOY = {**IMAGE_DEPLOY, "namespace": home("globex")}


async def test_a_tenant_at_its_deploy_limit_is_told_of_its_own_deployments_only(
    gateway: Gateway,
) -> None:
    await caught_up(gateway)
    acme, _ = await gateway.built.admission.active("acme")
    globex, everyone = await gateway.built.admission.active("globex")
    limit = max(acme, globex) + 1
    with deploy_limit(gateway, Limit(per_tenant=limit, overall=everyone + 1000)):
        async with gateway.client("acme-deploy") as client:
            for _ in range(limit - acme):
                accepted = await client.post("/api/v1/deploy", json=IMAGE_DEPLOY)
                assert accepted.status_code == 202, accepted.text
            refused = await client.post("/api/v1/deploy", json=IMAGE_DEPLOY)
        body = assert_error(refused, 429, "QUEUE_FULL")
        assert f"your tenant has {limit} deployments" in body["message"]
        async with gateway.client("globex-admin") as other:
            answer = await other.post("/api/v1/deploy", json=GLOBEX_DEPLOY)
        assert answer.status_code == 202, answer.text  # acme's queue is not globex's


async def test_the_global_deploy_limit_reveals_nothing_about_other_tenants(
    gateway: Gateway,
) -> None:
    await caught_up(gateway)
    _, everyone = await gateway.built.admission.active("globex")
    with deploy_limit(gateway, Limit(per_tenant=everyone + 1000, overall=everyone)):
        async with gateway.client("globex-admin") as client:
            refused = await client.post("/api/v1/deploy", json=GLOBEX_DEPLOY)
    body = assert_error(refused, 503, "AT_CAPACITY")
    assert not any(ch.isdigit() for ch in body["message"]), body["message"]


def connection_limit(gateway: Gateway, limit: Limit) -> ContextManager[None]:
    return swapped(gateway.built.connections, "limit", limit)


async def open_stream(
    stack: AsyncExitStack, client: httpx.AsyncClient, path: str
) -> httpx.Response:
    response = await stack.enter_async_context(client.stream("GET", path))
    if response.status_code != 200:
        await response.aread()
    return response


async def test_a_tenants_streams_do_not_use_up_another_tenants(gateway: Gateway) -> None:
    mine, _ = await new_deployment(gateway.store)
    theirs, _ = await new_deployment(gateway.store, tenant="globex")
    connections = gateway.built.connections
    per_tenant = connections.of_tenant("acme") + 2
    async with AsyncExitStack() as stack:
        acme = await stack.enter_async_context(gateway.client("acme-read"))
        globex = await stack.enter_async_context(gateway.client("globex-admin"))
        with connection_limit(gateway, Limit(per_tenant=per_tenant, overall=10_000)):
            for _ in range(2):
                held = await open_stream(stack, acme, f"/api/v1/deploy/{mine}/events")
                assert held.status_code == 200
            refused = await open_stream(stack, acme, f"/api/v1/deploy/{mine}/events")
            body = assert_error(refused, 429, "TOO_MANY_CONNECTIONS")
            assert f"your tenant has {per_tenant} streaming connections" in body["message"]
            url = gateway.url.replace("http://", "ws://") + "/api/v1/ws"
            async with websockets.connect(url, additional_headers=gateway.auth("acme-read")) as ws:
                message = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 20))
                assert message["code"] == "TOO_MANY_CONNECTIONS"
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 20)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            other = await open_stream(stack, globex, f"/api/v1/deploy/{theirs}/events")
            assert other.status_code == 200  # acme's streams are not globex's


async def test_the_global_connection_limit_reveals_nothing(gateway: Gateway) -> None:
    theirs, _ = await new_deployment(gateway.store, tenant="globex")
    connections = gateway.built.connections
    with connection_limit(gateway, Limit(per_tenant=10_000, overall=len(connections))):
        async with gateway.client("globex-admin") as client:
            refused = await client.get(f"/api/v1/deploy/{theirs}/events")
    body = assert_error(refused, 503, "AT_CAPACITY")
    assert not any(ch.isdigit() for ch in body["message"]), body["message"]


async def _messages(ws: Any) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield msgspec.json.decode(await asyncio.wait_for(ws.recv(), 20))


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    async for message in _messages(ws):
        if message["type"] == kind:
            return message
    raise AssertionError("unreachable")


async def test_a_websocket_message_past_the_limit_closes_the_socket_with_1009(
    gateway: Gateway,
) -> None:
    async with gateway.websocket(max_size=None) as ws:
        await ws.send(
            json.dumps({"type": "unsubscribe", "subscriptionId": "x" * (2 * 1024 * 1024)})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _next(ws, "error")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_a_socket_holds_at_most_its_subscriptions(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store)
    limit = gateway.built.config.ws_max_subscriptions
    async with gateway.websocket(max_size=None) as ws:
        for i in range(limit):
            subscribe = {
                "type": "subscribe-to-pipeline",
                "deploymentId": dep,
                "subscriptionId": f"s{i}",
            }
            await ws.send(json.dumps(subscribe))
            await _next(ws, "subscribed")
        for kind in ("subscribe-to-pipeline", "subscribe-to-logs"):
            message = {"type": kind, "deploymentId": dep, "app": "web", "subscriptionId": "extra"}
            if kind == "subscribe-to-logs":
                message.pop("deploymentId")
            await ws.send(json.dumps(message))
            error = await _next(ws, "error")
            assert error["code"] == "TOO_MANY_SUBSCRIPTIONS", error
            assert error["subscriptionId"] == "extra"
        await ws.send(json.dumps({"type": "unsubscribe", "subscriptionId": "s0"}))
        await _next(ws, "unsubscribed")
        await ws.send(json.dumps({"type": "subscribe-to-pipeline", "deploymentId": dep}))
        assert (await _next(ws, "subscribed"))["kind"] == "pipeline"


async def test_history_per_subscription_is_capped(gateway: Gateway) -> None:
    with history_limit(gateway, 50):
        async with gateway.websocket(max_size=None) as ws:
            await ws.send(json.dumps({"type": "subscribe-to-logs", "app": "web", "tail": 51}))
            error = await _next(ws, "error")
        assert error["code"] == "INVALID_LOG_FILTER" and "at most 50" in error["message"]
        async with gateway.client("acme-read") as client:
            refused = await client.get("/api/v1/logs/web/stream", params={"tail": "51"})
        assert_error(refused, 400, "INVALID_LOG_FILTER")


async def test_history_by_time_is_capped_like_a_tail(gateway: Gateway) -> None:
    app = unique_app("capped")
    await make_app(gateway, app)
    await publish(gateway, app, many(app, "web-a", 60, "line"))
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with history_limit(gateway, 50):
        async with gateway.client("acme-read") as client:
            for params in ({"since": hour_ago}, {"until": "2999-01-01T00:00:00Z"}):
                refused = await client.get(f"/api/v1/logs/{app}/stream", params=params)
                body = assert_error(refused, 400, "INVALID_LOG_FILTER")
                assert "more than 50 lines" in body["message"]
            narrowed = {"since": hour_ago, "keywords": "line 1"}  # 11 lines: "line 1", "line 1x"
            async with client.stream("GET", f"/api/v1/logs/{app}/stream", params=narrowed) as ok:
                assert ok.status_code == 200
        async with gateway.websocket(max_size=None) as ws:
            subscribe = {"type": "subscribe-to-logs", "app": app, "filter": {"since": hour_ago}}
            await ws.send(json.dumps(subscribe))
            error = await _next(ws, "error")
            assert error["code"] == "INVALID_LOG_FILTER" and "more than 50" in error["message"]
            await ws.send(json.dumps({**subscribe, "tail": 50, "filter": {}}))
            assert (await _next(ws, "subscribed"))["kind"] == "logs"
