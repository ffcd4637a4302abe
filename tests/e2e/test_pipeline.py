"""Deployments through the whole system, started as processes, as a user would."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from flightdeck.events import Codec, subjects
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.readmodel.database import open_database
from flightdeck.readmodel.projector import PROJECTED, rebuild
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_permissions import ADMIN
from tests.e2e.system import System
from tests.integration.readmodel.support import snapshot
from tests.support.cli import flightdeck
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

Seen = list[tuple[int | None, str, dict[str, Any]]]
OnEvent = Callable[[str, dict[str, Any]], Awaitable[None]]


@pytest.fixture(scope="module")
async def store(system: System) -> AsyncIterator[EventStore]:
    nc = await connect(system.nats_config(ADMIN), "e2e-tests", user=ADMIN)
    yield JetStreamEventStore(nc, Codec("/flightdeck/e2e"))
    await nc.close()


async def deploy(system: System, app: str, tag: str, key: str | None = None, **body: Any) -> str:
    async with system.client(key) as http:
        response = await http.post(
            "/api/v1/deploy",
            json={"appName": app, "imageRepository": app, "imageTag": tag, "replicas": 2, **body},
        )
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["deploymentId"])


async def follow(
    system: System, deployment_id: str, on_event: OnEvent | None = None, key: str | None = None
) -> Seen:
    """Every SSE event until done/error, reconnecting with Last-Event-ID as needed."""
    seen: Seen = []
    last: str | None = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            async with system.client(key) as http:
                headers = {"Last-Event-ID": last} if last else {}
                path = f"/api/v1/deploy/{deployment_id}/events"
                async with aconnect_sse(http, "GET", path, headers=headers, timeout=None) as source:
                    async for sse in source.aiter_sse():
                        if not sse.data:
                            continue
                        data = json.loads(sse.data)
                        if sse.event == "error" and data.get("errorCode") == "SLOW_CONSUMER":
                            break
                        seen.append((int(sse.id) if sse.id else None, sse.event, data))
                        last = sse.id or last
                        if on_event is not None:
                            await on_event(sse.event, data)
                        if sse.event in ("done", "error"):
                            return seen
        except (httpx.TransportError, httpx.HTTPStatusError):
            pass
        await asyncio.sleep(0.5)  # the gateway (or NATS) is coming back
    raise AssertionError(f"no done/error for {deployment_id}; saw {[e for _, e, _ in seen]}")


async def result(system: System, deployment_id: str) -> dict[str, Any]:
    """The final result from the read model (the gateway may be restarting)."""
    data: dict[str, Any] = {}
    async with system.client() as http:
        for _ in range(300):
            try:
                data = (await http.get(f"/api/v1/deploy/{deployment_id}/result")).json()
            except httpx.TransportError:
                data = {}
            body = data.get("data") or {}
            if body.get("phase") in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return dict(body)
            await asyncio.sleep(0.2)
    raise AssertionError(
        f"no final result for {deployment_id}: {data}\n" + "\n".join(system.output[-30:])
    )


async def test_a_deployment_to_completion_over_rest_and_sse(
    system: System, store: EventStore
) -> None:
    await system.push_image("web", "v1", delay_s=1.0)
    dep = await deploy(system, "web", "v1")
    seen = await follow(system, dep)
    assert seen[-1][1] == "done"
    stages = [d["stage"] for _, e, d in seen if e == "stage" and d["status"] == "RUNNING"]
    expected = ["artifact", "apply", "rollout", "expose", "verify", "switch", "complete"]
    assert [s for s in dict.fromkeys(stages) if s in expected] == expected
    events = await store.read(subjects.deployment(dep))
    assert [i for i, _, _ in seen] == [r.position for r in events]

    body = await result(system, dep)
    assert (body["phase"], body["colour"]) == ("SUCCEEDED", "blue")
    assert (body["status"], body["finalService"]) == ("COMPLETED", "blue")
    assert body["url"]

    replay = await flightdeck("replay", dep, env=system.env)
    assert replay.code == 0, replay.err
    for stage in expected[:-1]:
        assert f"{stage} succeeded" in replay.out
    lines = (await flightdeck("replay", dep, "-f", "json", env=system.env)).out
    assert len(lines.splitlines()) == len(events)


async def test_a_failing_health_check_rolls_back_and_says_why(system: System) -> None:
    await system.push_image("shop", "v1")
    first = await deploy(system, "shop", "v1")
    assert (await follow(system, first))[-1][1] == "done"
    await system.push_image("shop", "v2-unhealthy")
    second = await deploy(system, "shop", "v2-unhealthy")
    seen = await follow(system, second)
    kind, data = seen[-1][1], seen[-1][2]
    assert kind == "error"
    assert data["errorCode"] == "HEALTH_CHECK_FAILED"
    assert data["servingColour"] == "blue"
    body = await result(system, second)
    assert (body["phase"], body["errorCode"], body["servingColour"]) == (
        "FAILED",
        "HEALTH_CHECK_FAILED",
        "blue",
    )
    assert body["rolledBack"] is True
    async with httpx.AsyncClient(base_url=system.sandbox["ingress_url"]) as http:
        answer = await http.get("/", headers={"Host": "shop.localhost"})
    assert answer.headers.get("X-Sandbox-Color") == "blue"


async def test_orchestrator_gateway_and_nats_crash_mid_deployment(
    system: System, store: EventStore
) -> None:
    killed: dict[str, int] = {}

    async def chaos(kind: str, data: dict[str, Any]) -> None:
        stage = data.get("stage")
        if stage == "rollout" and "orchestrator" not in killed:
            killed["orchestrator"] = await system.kill("orchestrator")
        elif stage == "expose" and "nats" not in killed:
            killed["nats"] = 1
            system.nats.kill()  # SIGKILL, then the same store and port
            await asyncio.sleep(0.5)
            await system.nats.start()
        elif stage == "verify" and "gateway" not in killed:
            killed["gateway"] = await system.kill("gateway")

    await system.push_image("api", "v1", delay_s=0.5)
    dep = await deploy(system, "api", "v1")
    seen = await follow(system, dep, on_event=chaos)
    assert set(killed) == {"orchestrator", "nats", "gateway"}
    assert seen[-1][1] == "done"
    events = await store.read(subjects.deployment(dep))
    ids = [i for i, _, _ in seen]
    assert ids == [r.position for r in events], "every event exactly once, in order"
    assert len(ids) == len(set(ids))
    assert (await result(system, dep))["phase"] == "SUCCEEDED"
    for service in ("orchestrator", "gateway"):
        await eventually(lambda s=service: _restarted(system, s, killed[s]), what=f"{service} back")
    await _rebuild_equals_live(system, store)


async def _restarted(system: System, service: str, old: int) -> bool:
    pids = system.pids(service)
    return len(pids) == 1 and pids[0] != old


async def _rebuild_equals_live(system: System, store: EventStore) -> None:
    live_db = await open_database(
        f"sqlite+aiosqlite:///{system.state / 'readmodel.db'}", migrate=False
    )
    fresh = await open_database(f"sqlite+aiosqlite:///{system.state / 'rebuilt.db'}")
    try:

        async def live_caught_up() -> bool:
            rows = await snapshot(live_db)
            done = {r["stream"]: r["position"] for r in rows["projector_checkpoints"]}
            for stream in PROJECTED:
                if done.get(stream, 0) < await store.stream_last_position(stream):
                    return False
            return True

        for _ in range(5):  # the cluster may still be settling: compare at a quiet moment
            await eventually(live_caught_up, within=60, what="the live projector")
            live = await snapshot(live_db)
            await rebuild(store, fresh)
            rebuilt = await snapshot(fresh)
            if rebuilt == live:
                return
            await asyncio.sleep(1)
        assert rebuilt == live
    finally:
        await live_db.close()
        await fresh.close()


async def test_ten_deployments_at_once_do_not_interfere(system: System, store: EventStore) -> None:
    apps = [f"svc{n}" for n in range(10)]
    await asyncio.gather(*(system.push_image(app, "v1") for app in apps))
    deployments = await asyncio.gather(*(deploy(system, app, "v1") for app in apps))
    outcomes = await asyncio.gather(*(follow(system, dep) for dep in deployments))
    assert [seen[-1][1] for seen in outcomes] == ["done"] * 10
    for app, dep in zip(apps, deployments, strict=True):
        body = await result(system, dep)
        assert (body["phase"], body["appName"]) == ("SUCCEEDED", app)
        events = await store.read(subjects.deployment(dep))
        assert {r.correlation_id for r in events} == {events[0].correlation_id}
        assert all(getattr(r.event, "deployment_id", dep) == dep for r in events)


async def test_a_deployment_through_an_aws_connection(system: System) -> None:
    async with system.client() as http:
        response = await http.post(
            "/api/v1/connect/aws",
            json={
                "accessKeyId": "AKIAE2ETEST0000001",
                "secretAccessKey": "e2e-secret",
                "region": "us-east-1",
            },
        )
    assert response.status_code < 300, response.text
    connection = response.json()["data"]
    assert "secretAccessKey" not in response.text and "e2e-secret" not in response.text
    await system.push_image("billing", "v1")
    dep = await deploy(system, "billing", "v1", awsConnectionId=connection["awsConnectionId"])
    seen = await follow(system, dep)
    assert seen[-1][1] == "done", seen[-1]
    body = await result(system, dep)
    assert ".dkr.ecr." in body["image"]
