"""Read your writes: a read made after a client saw an event on a stream reflects it.

Panda's clients read ``GET /api/v1/deploy/{id}/result`` the instant the stream says
``done``; the read model trails the stream by a few milliseconds, so the result must
wait (bounded) for the projection to reach the deployment's latest position, or
answer from the stream.
"""

from __future__ import annotations

import asyncio

import pytest
from httpx_sse import aconnect_sse

from flightdeck.events import subjects
from flightdeck.events.deployments import Colour, DeploymentCompleted, Stage, StageStarted
from tests.integration.gateway.conftest import CAUSE, Gateway, new_deployment
from tests.support.samples import T0

pytestmark = pytest.mark.integration

RUNS = 100
AT_ONCE = 10


def _done() -> DeploymentCompleted:
    return DeploymentCompleted(
        colour=Colour.BLUE,
        url="http://web.localhost/",
        stage_durations_ms={"artifact": 5},
        total_duration_ms=1500,
    )


async def _read_result_when_done(gw: Gateway) -> tuple[str, str, int]:
    """One client: follow a live deployment, and the instant ``done`` arrives, read its
    result and the list; returns (result status, listed status, result's eventCount)."""
    dep, _ = await new_deployment(gw.store, StageStarted(stage=Stage.ARTIFACT, deadline=T0))
    async with gw.client("acme-read") as http:
        path = f"/api/v1/deploy/{dep}/events"
        async with aconnect_sse(http, "GET", path, timeout=None) as source:
            appended = False
            async for sse in source.aiter_sse():
                if sse.event == "stage" and not appended:
                    appended = True  # the client is live: now the deployment finishes
                    await gw.store.append(subjects.deployment(dep), [_done()], cause=CAUSE)
                if sse.event == "done":
                    result = (await http.get(f"/api/v1/deploy/{dep}/result")).json()["data"]
                    listed = (await http.get("/api/v1/deployments", params={"limit": 200})).json()
                    rows = [i for i in listed["data"]["items"] if i["deploymentId"] == dep]
                    listed_status = rows[0]["phase"] if rows else "NOT LISTED"
                    return result["phase"], listed_status, result["eventCount"]
    raise AssertionError("the stream ended without done")


async def test_a_result_read_the_instant_done_arrives_is_final_100_times(gateway: Gateway) -> None:
    seen: list[tuple[str, str, int]] = []
    for _ in range(RUNS // AT_ONCE):
        seen += await asyncio.gather(*(_read_result_when_done(gateway) for _ in range(AT_ONCE)))
    stale = [s for s in seen if s != ("SUCCEEDED", "SUCCEEDED", 3)]
    assert not stale, f"{len(stale)} of {RUNS} reads missed the done event: {stale[:5]}"
