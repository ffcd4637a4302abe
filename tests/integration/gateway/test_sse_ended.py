"""A finished deployment's stream ends for browsers: a reconnect at or past its final
event answers 204 No Content, the WHATWG signal that stops an EventSource.

Driven with a real HTTP client (httpx) against the running gateway, including a
browser-style reconnect loop (EventSource's algorithm: read to the end, wait
``retry``, reconnect with ``Last-Event-ID``; stop on 204), which must stop.
"""

from __future__ import annotations

import asyncio

import httpx
import msgspec
import pytest
from httpx_sse import aconnect_sse

from flightdeck.events import new_id
from flightdeck.events.deployments import Colour, DeploymentCompleted, DeploymentFailed, Stage
from tests.integration.gateway.conftest import Gateway, new_deployment
from tests.support.samples import progressed

pytestmark = pytest.mark.integration

DONE = DeploymentCompleted(
    colour=Colour.GREEN, url="http://web.local", stage_durations_ms={}, total_duration_ms=9
)
FAILED = DeploymentFailed(
    stage=Stage.ROLLOUT,
    error_code="ROLLOUT_TIMEOUT",
    message="too slow",
    rolled_back=True,
    serving_colour=Colour.BLUE,
    total_duration_ms=9,
)


async def status_of(gw: Gateway, path: str, headers: dict[str, str] | None = None) -> int:
    """The status of a stream request; the body is not read (a 200 streams forever)."""
    async with (
        httpx.AsyncClient(base_url=gw.url, timeout=10) as client,
        client.stream("GET", path, headers={**gw.auth(), **(headers or {})}) as response,
    ):
        return response.status_code


async def test_a_reconnect_at_the_done_event_gets_204(gateway: Gateway) -> None:
    # arrange
    dep, positions = await new_deployment(gateway.store, progressed(0), DONE)
    path = f"/api/v1/deploy/{dep}/events"
    done_id = str(positions[-1])
    # act / assert: header, query, and a position past the end
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        by_header = await client.get(path, headers={**gateway.auth(), "Last-Event-ID": done_id})
        by_query = await client.get(f"{path}?lastEventId={done_id}", headers=gateway.auth())
        past = await client.get(path, headers={**gateway.auth(), "Last-Event-ID": "999999999"})
    for response in (by_header, by_query, past):
        assert response.status_code == 204
        assert response.content == b""


async def test_a_reconnect_at_the_error_event_gets_204(gateway: Gateway) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0), FAILED)
    headers = {"Last-Event-ID": str(positions[-1])}
    assert await status_of(gateway, f"/api/v1/deploy/{dep}/events", headers) == 204


async def test_the_stream_with_logs_ends_too(gateway: Gateway) -> None:
    """``?include=logs`` ids are ``<deployment position>/<log cursor>``: the first decides."""
    dep, positions = await new_deployment(gateway.store, progressed(0), DONE)
    headers = {"Last-Event-ID": f"{positions[-1]}/0"}
    path = f"/api/v1/deploy/{dep}/events?include=logs"
    assert await status_of(gateway, path, headers) == 204


async def test_a_reconnect_before_the_end_still_gets_the_rest(gateway: Gateway) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0), progressed(1), DONE)
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        aconnect_sse(
            client,
            "GET",
            f"/api/v1/deploy/{dep}/events",
            headers={**gateway.auth(), "Last-Event-ID": str(positions[1])},
        ) as source,
    ):
        assert source.response.status_code == 200
        ids = [int(sse.id) async for sse in source.aiter_sse() if sse.id]
    assert ids == positions[2:]


async def test_a_running_deployment_is_never_204(gateway: Gateway) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0))
    headers = {"Last-Event-ID": str(positions[-1])}
    assert await status_of(gateway, f"/api/v1/deploy/{dep}/events", headers) == 200


async def test_a_browser_style_reconnect_loop_stops(gateway: Gateway) -> None:
    """EventSource: connect, read until the server closes, wait ``retry``, reconnect with
    the last id seen; a 204 makes it stop for good. At most two requests, then silence."""
    dep, positions = await new_deployment(gateway.store, progressed(0), DONE)
    path = f"/api/v1/deploy/{dep}/events"
    last_id: str | None = None
    statuses: list[int] = []
    seen: list[str] = []
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        for _ in range(5):  # a loop that a held-open or 200-again stream would exhaust
            headers = dict(gateway.auth())
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            retry_ms = 3000
            async with aconnect_sse(client, "GET", path, headers=headers) as source:
                statuses.append(source.response.status_code)
                if source.response.status_code == 204:
                    break
                async for sse in source.aiter_sse():
                    if sse.retry is not None:
                        retry_ms = sse.retry
                    if sse.id:
                        last_id = sse.id
                        seen.append(sse.event)
            await asyncio.sleep(min(retry_ms, 200) / 1000)
    assert statuses == [200, 204]
    assert last_id == str(positions[-1])
    assert seen[-1] == "done"


async def test_another_tenants_finished_deployment_answers_like_an_unknown_one(
    gateway: Gateway,
) -> None:
    """No 204 for someone else's deployment: the same 400 as an id that never existed."""
    dep, positions = await new_deployment(gateway.store, DONE, tenant="globex")
    headers = {**gateway.auth("acme-read"), "Last-Event-ID": str(positions[-1])}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        theirs = await client.get(f"/api/v1/deploy/{dep}/events", headers=headers)
        unknown_id = new_id()
        unknown = await client.get(f"/api/v1/deploy/{unknown_id}/events", headers=headers)
    assert theirs.status_code == unknown.status_code == 400
    mine, other = msgspec.json.decode(theirs.content), msgspec.json.decode(unknown.content)
    assert mine["errorCode"] == other["errorCode"] == "DEPLOYMENT_NOT_FOUND"


async def test_a_malformed_last_event_id_is_refused(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, DONE)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        response = await client.get(
            f"/api/v1/deploy/{dep}/events", headers={**gateway.auth(), "Last-Event-ID": "x1"}
        )
    assert response.status_code == 400
    assert msgspec.json.decode(response.content)["errorCode"] == "VALIDATION_ERROR"
