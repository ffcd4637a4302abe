"""The live app view through the whole system (issue 14 acceptance, ADR 0023): the app
stream shows CPU/memory per pod, at most once per pod per polling interval, and survives
a gateway restart with Last-Event-ID; a reconnect after ``done`` gets 204.

``flightdeck up`` with the k8s-watcher polling the sandbox's metrics.k8s.io every
second; the gateway is SIGKILLed and ``flightdeck up`` restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.e2e.conftest import assert_stop_reported
from tests.e2e.system import System
from tests.e2e.test_pipeline import deploy, follow
from tests.support.processes import processes_mentioning
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

INTERVAL_S = 1.0
Event = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
async def polled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """``flightdeck up`` whose watcher samples pod metrics every second."""
    root = Path(tmp_path_factory.mktemp("e2e-appview"))
    running = System(
        state=root / "state",
        nats=None,
        overrides={"FLIGHTDECK_K8S_WATCHER__METRICS_INTERVAL_S": str(INTERVAL_S)},
    )
    try:
        await running.start()
        yield running
    finally:
        if running.proc is not None and running.proc.returncode is None:
            assert_stop_reported(running, await running.stop())
    assert processes_mentioning(str(running.state)) == [], "processes left behind"


async def read_for(
    system: System, path: str, seconds: float, last_id: str | None = None
) -> list[Event]:
    """The app stream's events for ``seconds`` (id, event, data), from ``last_id`` on."""
    got: list[Event] = []
    headers = {"Last-Event-ID": last_id} if last_id else {}

    async def read() -> None:
        async with (
            system.client() as http,
            aconnect_sse(http, "GET", path, headers=headers, timeout=None) as source,
        ):
            assert source.response.status_code == 200
            async for sse in source.aiter_sse():
                if sse.data:
                    got.append((sse.id, sse.event, json.loads(sse.data)))

    task = asyncio.create_task(read())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return got


def samples(events: list[Event]) -> dict[str, list[datetime]]:
    by_pod: dict[str, list[datetime]] = defaultdict(list)
    for _, kind, data in events:
        if kind == "metrics":
            by_pod[data["pod"]].append(datetime.fromisoformat(data["timestamp"]))
    return by_pod


def assert_at_most_once_per_interval(by_pod: dict[str, list[datetime]]) -> None:
    for pod, times in by_pod.items():
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert all(g >= INTERVAL_S * 0.95 for g in gaps), (pod, gaps)


async def gateway_back(system: System, old: int) -> bool:
    pids = system.pids("gateway")
    if len(pids) != 1 or pids[0] == old:
        return False
    try:
        async with system.client() as http:
            return (await http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def test_the_app_stream_shows_metrics_per_pod_and_survives_a_gateway_restart(
    polled: System,
) -> None:
    # arrange: an app with two pods, finished
    await polled.push_image("metered", "v1")
    dep = await deploy(polled, "metered", "v1")
    seen = await follow(polled, dep)
    assert seen[-1][1] == "done", seen[-1]
    path = "/api/v1/apps/metered/events"

    # act: read the stream a while; kill the gateway; reconnect with the last id
    before = await read_for(polled, path, 4 * INTERVAL_S)
    assert before[0][1] == "app"
    assert before[0][2]["liveColour"] in ("blue", "green")
    live_pods = {p["name"] for p in before[0][2]["pods"]}
    assert len(live_pods) == 2, before[0][2]
    first = samples(before)
    assert live_pods <= set(first), f"no CPU/memory for {live_pods - set(first)}"
    last_id = before[-1][0]
    old = await polled.kill("gateway")
    await eventually(lambda: gateway_back(polled, old), within=90, what="the gateway restarted")
    after = await read_for(polled, path, 4 * INTERVAL_S, last_id=last_id)

    # assert: exactly what followed, never the snapshot again, samples still spaced
    assert after, "nothing after the restart"
    assert all(kind != "app" for _, kind, _ in after)
    assert all(len(i.split("/")) == 4 for i, _, _ in after)
    for pod in live_pods:
        times = first[pod] + samples(after)[pod]
        assert len(samples(after)[pod]) >= 1, f"no samples of {pod} after the restart"
        assert_at_most_once_per_interval({pod: times})
    assert_at_most_once_per_interval(samples(before))
    for _, kind, data in before + after:
        if kind == "metrics":
            assert data["cpuMillicores"] >= 0 and data["memoryBytes"] > 0


async def test_a_reconnect_after_done_gets_204(polled: System) -> None:
    await polled.push_image("finished", "v1")
    dep = await deploy(polled, "finished", "v1")
    seen = await follow(polled, dep)
    assert seen[-1][1] == "done"
    async with polled.client() as http:
        again = await http.get(
            f"/api/v1/deploy/{dep}/events", headers={"Last-Event-ID": str(seen[-1][0])}
        )
    assert again.status_code == 204
