"""The live app view (issue 14 item 2, ADR 0023): ``GET /api/v1/apps/{app}``, its SSE
stream (pods, CPU/memory coalesced per pod per polling interval, replicas, deployments,
ops actions; resumable, across a gateway restart), and the tenant feed
``GET /api/v1/events``. Against the running gateway over HTTP, events in real NATS.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.audit import OpsAction, OpsActionFailed, OpsActionSucceeded
from flightdeck.events.cluster import (
    ResourceDeleted,
)
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentCompleted,
    DeploymentStatus,
    Stage,
    StageStarted,
)
from flightdeck.eventstore import EventStore
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.auth import hash_token
from flightdeck.readmodel.projector import NAME, PROJECTED, Projector
from flightdeck.readmodel.sqlrows import read_checkpoint
from flightdeck.runtime.sealing import SecretsSettings
from tests.integration.gateway.conftest import (
    CAUSE,
    Gateway,
    create_token,
    home,
    new_deployment,
)
from tests.integration.gateway.instances import another_gateway
from tests.support.appview import NS, observe, pod, replicas, sample
from tests.support.samples import T0, progressed
from tests.support.slow_clients import read_to_close, silent_get, slow_consumer_cuts
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

DONE = DeploymentCompleted(
    colour=Colour.BLUE, url="http://web.local", stage_durations_ms={}, total_duration_ms=9
)


def new_app() -> str:
    return f"app-{new_id()[:10]}"


async def deployed(store: EventStore, app: str, tenant: str = "acme") -> str:
    """A finished deployment of ``app`` to blue, its slot claimed and released as the
    orchestrator does."""
    assigned = ColourAssigned(colour=Colour.BLUE, previous_colour=None)
    dep, _ = await new_deployment(store, assigned, progressed(0), DONE, tenant=tenant, app=app)
    ns = home(tenant)
    claimed = AppSlotClaimed(
        namespace=ns, app=app, deployment_id=dep, colour=Colour.BLUE, previous_colour=None
    )
    released = AppReleased(
        namespace=ns,
        app=app,
        deployment_id=dep,
        outcome=DeploymentStatus.SUCCEEDED,
        serving_colour=Colour.BLUE,
    )
    await store.append(subjects.app(ns, app), [claimed, released], cause=CAUSE)
    return dep


class Stream:
    """One SSE client reading in the background."""

    def __init__(self, url: str, path: str, headers: dict[str, str]) -> None:
        self.url, self.path, self.headers = url, path, headers
        self.events: list[ServerSentEvent] = []
        self.status: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stream:
        self._task = asyncio.create_task(self._run())
        await eventually(lambda: self.status is not None)
        return self

    async def _run(self) -> None:
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=60) as client,
            aconnect_sse(client, "GET", self.path, headers=self.headers) as source,
        ):
            self.status = source.response.status_code
            async for sse in source.aiter_sse():
                if sse.event != "message":
                    self.events.append(sse)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [msgspec.json.decode(e.data) for e in self.events if e.event == kind]

    async def wait_for(self, kind: str, count: int) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.of(kind)) >= count, what=f"{count} {kind} events")
        return self.of(kind)

    @property
    def last_id(self) -> str:
        return self.events[-1].id


# ------------------------------------------------------------------ GET /api/v1/apps/{app}


async def test_an_app_now(gateway: Gateway) -> None:
    # arrange
    app = new_app()
    dep = await deployed(gateway.store, app)
    await observe(gateway.store, replicas(app, 2, 1))
    await observe(gateway.store, pod(app, f"{app}-blue-abc-1"))
    await observe(gateway.store, pod(app, f"{app}-blue-abc-2", ready=False, waiting="ErrImagePull"))
    await observe(gateway.store, sample(f"{app}-blue-abc-1", 12.5))
    async with gateway.client("acme-read") as client:
        # act
        async def projected() -> dict[str, Any] | None:
            response = await client.get(f"/api/v1/apps/{app}")
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            pods = data["pods"]
            done = len(pods) == 2 and pods[0]["cpuMillicores"] and data["replicas"]["desired"]
            return data if done else None

        view = await eventually(projected, what="the app's rows")
    # assert
    assert view["app"] == app and view["namespace"] == NS
    assert view["liveColour"] == "blue"
    assert view["url"] == "http://web.local"
    assert view["image"].endswith(f"{app}:v1")
    assert view["replicas"] == {"desired": 2, "ready": 1}
    assert view["lastDeployment"]["id"] == dep
    assert view["lastDeployment"]["status"] == "SUCCEEDED"
    assert view["activeDeployment"] is None
    first, second = view["pods"]
    assert first["name"] == f"{app}-blue-abc-1"
    assert (first["phase"], first["ready"], first["restarts"], first["node"]) == (
        "Running",
        True,
        1,
        "node-1",
    )
    assert (first["cpuMillicores"], first["memoryBytes"]) == (12.5, 64 << 20)
    assert first["colour"] == "blue"
    assert second["waitingReason"] == "ErrImagePull"


async def every_app(gw: Gateway, who: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of ``GET /api/v1/apps`` as ``who``."""
    items: list[dict[str, Any]] = []
    async with gw.client(who) as client:
        while True:
            query = {**params, "limit": 200, "offset": len(items)}
            response = await client.get("/api/v1/apps", params=query)
            assert response.status_code == 200, response.text
            page = response.json()["data"]
            items += page["items"]
            if len(items) >= page["total"] or not page["items"]:
                return items


async def test_the_tenants_apps_are_listed_and_only_its_own(gateway: Gateway) -> None:
    mine, theirs = new_app(), new_app()
    await deployed(gateway.store, mine)
    await deployed(gateway.store, theirs, tenant="globex")
    ours = await every_app(gateway, "acme-read", namespace=NS)
    assert mine in [a["app"] for a in ours] and theirs not in [a["app"] for a in ours]
    (listed,) = [a for a in ours if a["app"] == mine]
    assert (listed["namespace"], listed["liveColour"], listed["lastOutcome"]) == (
        NS,
        "blue",
        "SUCCEEDED",
    )
    assert await every_app(gateway, "acme-read", namespace=home("globex")) == []
    globex = [a["app"] for a in await every_app(gateway, "globex-admin")]
    assert theirs in globex and mine not in globex


async def test_another_tenants_app_answers_like_an_unknown_one(gateway: Gateway) -> None:
    theirs = new_app()
    await deployed(gateway.store, theirs, tenant="globex")
    unknown = new_app()
    ns = home("globex")
    async with gateway.client("acme-admin") as client:
        for path in (
            "/api/v1/apps/{app}?namespace={ns}",
            "/api/v1/apps/{app}/events?namespace={ns}",
        ):
            a = await client.get(path.format(app=theirs, ns=ns))
            b = await client.get(path.format(app=unknown, ns=ns))
            assert a.status_code == b.status_code == 404
            body_a, body_b = a.json(), b.json()
            assert body_a["errorCode"] == body_b["errorCode"] == "APP_NOT_FOUND"
            assert body_a["message"].replace(theirs, "X") == body_b["message"].replace(unknown, "X")
    async with gateway.client("globex-admin") as client:
        assert (await client.get(f"/api/v1/apps/{theirs}?namespace={ns}")).status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/apps/Not_A_Name", {}),
        ("/api/v1/apps/web?namespace=UPPER", {}),
        ("/api/v1/apps/web/events?namespace=a..b", {}),
        ("/api/v1/apps/{app}/events", {"Last-Event-ID": "12/13/14"}),
        ("/api/v1/apps/{app}/events?lastEventId=1/x/3/4", {}),
        ("/api/v1/events", {"Last-Event-ID": "12"}),
        ("/api/v1/events", {"Last-Event-ID": "-1/2"}),
        ("/api/v1/apps?limit=0", {}),
        ("/api/v1/apps?limit=201", {}),
        ("/api/v1/apps?namespace=Bad_NS", {}),
    ],
)
async def test_bad_input_is_one_json_error(
    gateway: Gateway, path: str, headers: dict[str, str]
) -> None:
    app = new_app()
    await deployed(gateway.store, app)
    async with gateway.client("acme-read") as client:
        response = await client.get(path.format(app=app), headers=headers)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "VALIDATION_ERROR"


async def test_without_a_key_401(gateway: Gateway) -> None:
    async with gateway.client(None) as client:
        for path in (
            "/api/v1/apps",
            "/api/v1/apps/web",
            "/api/v1/apps/web/events",
            "/api/v1/events",
        ):
            response = await client.get(path)
            assert response.status_code == 401
            assert response.json()["errorCode"] == "UNAUTHORIZED"


# ------------------------------------------------------------------ the app stream


async def test_the_app_stream_starts_with_the_app_then_follows_it_live(gateway: Gateway) -> None:
    # arrange
    app, other = new_app(), new_app()
    await deployed(gateway.store, app)
    await deployed(gateway.store, other)
    name = f"{app}-blue-abc-1"
    async with Stream(gateway.url, f"/api/v1/apps/{app}/events", gateway.auth("acme-read")) as s:
        assert s.status == 200
        (document,) = await s.wait_for("app", 1)
        assert document["app"] == app
        # act
        await observe(gateway.store, pod(other, f"{other}-blue-abc-1"))
        await observe(gateway.store, sample(f"{other}-blue-abc-1", 99.0))
        await observe(gateway.store, pod(app, name, ready=False, waiting="ContainerCreating"))
        await observe(gateway.store, replicas(app, 1, 0))
        await observe(gateway.store, pod(app, name))
        await observe(gateway.store, sample(name, 250.0))
        await gateway.store.append(
            subjects.ops("acme", app),
            [
                OpsActionSucceeded(
                    action_id="a1",
                    action=OpsAction.SCALE,
                    namespace=NS,
                    target=f"{app}-blue",
                    detail={"replicas": 3},
                ),
                OpsActionFailed(
                    action_id="a2",
                    action=OpsAction.RESTART_POD,
                    namespace="elsewhere",
                    target="x",
                    error_code="E",
                    message="m",
                ),
            ],
            cause=Cause.root("user:alice"),
        )
        await observe(gateway.store, ResourceDeleted(kind="Pod", namespace=NS, name=name, uid="u"))
        # assert
        pods = await s.wait_for("pod", 2)
        (metrics,) = await s.wait_for("metrics", 1)
        (ops,) = await s.wait_for("ops", 1)
        (deleted,) = await s.wait_for("pod_deleted", 1)
        (scale,) = s.of("replicas")
    assert [(p["name"], p["ready"], p["waitingReason"]) for p in pods] == [
        (name, False, "ContainerCreating"),
        (name, True, None),
    ]
    assert (metrics["pod"], metrics["cpuMillicores"], metrics["memoryBytes"]) == (
        name,
        250.0,
        64 << 20,
    )
    assert (scale["colour"], scale["desired"], scale["ready"]) == ("blue", 1, 0)
    assert (ops["status"], ops["action"], ops["actor"], ops["detail"]) == (
        "SUCCEEDED",
        "scale",
        "user:alice",
        {"replicas": 3},
    )
    assert deleted["name"] == name
    assert all(other not in e.data for e in s.events), "another app's events leaked"
    ids = [e.id.split("/") for e in s.events]
    assert all(len(i) == 4 for i in ids)


async def test_deployments_of_the_app_appear_on_its_stream(gateway: Gateway) -> None:
    app = new_app()
    await deployed(gateway.store, app)
    async with Stream(gateway.url, f"/api/v1/apps/{app}/events", gateway.auth()) as s:
        await s.wait_for("app", 1)
        dep = await deployed(gateway.store, app)

        def of_dep() -> list[dict[str, Any]]:
            return [e for e in s.of("deployment") if e["deploymentId"] == dep]

        started, ended = await eventually(lambda: len(of_dep()) == 2 and of_dep())
    assert (started["deploymentId"], started["status"], started["colour"]) == (
        dep,
        "RUNNING",
        "blue",
    )
    assert (ended["status"], ended["servingColour"]) == ("SUCCEEDED", "blue")
    stages = [e for e in s.of("stage") if e["deploymentId"] == dep]
    assert stages, "the deployment's own events are on its app's stream"
    (done,) = [e for e in s.of("done") if e["deploymentId"] == dep]
    assert done["status"] == "SUCCEEDED"


async def test_only_the_apps_own_deployments_are_on_its_stream(gateway: Gateway) -> None:
    """Stage events of another app, or of this app requested before the client's
    position and still running, are told apart by each deployment's request."""
    app, other = new_app(), new_app()
    running, _ = await new_deployment(gateway.store, progressed(0), app=app)
    async with Stream(gateway.url, f"/api/v1/apps/{app}/events", gateway.auth()) as s:
        await s.wait_for("app", 1)
        theirs, _ = await new_deployment(gateway.store, progressed(1), app=other)
        await gateway.store.append(subjects.deployment(running), [progressed(2)], cause=CAUSE)
        await eventually(
            lambda: any(e.get("detail") == {"n": 2} for e in s.of("stage")),
            what="the running deployment's next stage",
        )
        await asyncio.sleep(0.2)
    assert {e["deploymentId"] for e in s.of("stage")} == {running}
    assert theirs not in "".join(e.data for e in s.events)


async def test_metrics_come_at_most_once_per_pod_per_polling_interval(gateway: Gateway) -> None:
    """Samples a watcher restart or a second leader adds within the interval are dropped;
    the next one an interval later is sent. Pods are coalesced independently."""
    app = new_app()
    await deployed(gateway.store, app)
    a, b = f"{app}-blue-abc-1", f"{app}-blue-abc-2"
    await observe(gateway.store, pod(app, a))
    await observe(gateway.store, pod(app, b))
    async with Stream(gateway.url, f"/api/v1/apps/{app}/events", gateway.auth()) as s:
        await s.wait_for("app", 1)
        for cpu in (1.0, 2.0, 3.0):  # one interval (1 s): only the first
            await observe(gateway.store, sample(a, cpu))
            await observe(gateway.store, sample(b, cpu * 10))
        await asyncio.sleep(1.0)
        await observe(gateway.store, sample(a, 4.0))  # an interval later: sent
        await observe(gateway.store, sample(a, 5.0))  # too soon again
        await s.wait_for("metrics", 3)
        await asyncio.sleep(0.3)  # nothing more may come
        got = [(m["pod"], m["cpuMillicores"]) for m in s.of("metrics")]
    assert got == [(a, 1.0), (b, 10.0), (a, 4.0)]


async def test_the_app_stream_resumes_after_a_gateway_restart(
    store: EventStore, gateway: Gateway, tmp_path: Path
) -> None:
    """A client reconnecting with its Last-Event-ID to a gateway that started since gets
    exactly what it missed, its metrics still at most once per pod per interval."""
    # arrange: a first gateway, a client that saw a pod and one of its samples
    app = new_app()
    await deployed(store, app)
    name = f"{app}-blue-abc-1"
    await observe(store, pod(app, name))
    config = GatewayConfig(heartbeat_s=1.0, gc_freeze=False)
    secrets = SecretsSettings(key=base64.b64encode(os.urandom(32)).decode())
    async with another_gateway(store, tmp_path / "first.db", config, secrets) as (url, built):
        token = await create_token(store, built, "acme", ["read"])
        auth = {"Authorization": f"Bearer {token}"}
        async with Stream(url, f"/api/v1/apps/{app}/events", auth) as s:
            await s.wait_for("app", 1)
            await observe(store, sample(name, 1.0))
            await s.wait_for("metrics", 1)
            seen = s.last_id
    # act: while no gateway runs, the pod changes and samples arrive
    await observe(store, sample(name, 2.0))  # within the interval of the one seen: dropped
    await observe(store, pod(app, name, ready=False, waiting="CrashLoopBackOff"))
    await asyncio.sleep(1.0)
    await observe(store, sample(name, 3.0))  # an interval later: sent
    stack = contextlib.AsyncExitStack()
    async with another_gateway(store, tmp_path / "second.db", config, secrets) as (url, built):
        await eventually(lambda: built.read_model.token(hash_token(token)))
        headers = {**auth, "Last-Event-ID": seen}
        again = await stack.enter_async_context(Stream(url, f"/api/v1/apps/{app}/events", headers))
        # assert
        assert again.status == 200
        (changed,) = await again.wait_for("pod", 1)
        (metrics,) = await again.wait_for("metrics", 1)
        await asyncio.sleep(0.3)
        assert not again.of("app"), "a resumed stream starts where the client was"
        assert len(again.of("pod")) == 1 and len(again.of("metrics")) == 1
        await stack.aclose()
    assert changed["waitingReason"] == "CrashLoopBackOff"
    assert metrics["cpuMillicores"] == 3.0


# ------------------------------------------------------------------ the tenant feed


async def test_the_tenant_feed_carries_every_deployment_and_ops_action_of_the_tenant(
    gateway: Gateway,
) -> None:
    app = new_app()
    async with Stream(gateway.url, "/api/v1/events", gateway.auth("acme-read")) as s:
        (ready,) = await s.wait_for("ready", 1)
        assert ready == {"tenant": "acme"}
        # act: one of ours, one of another tenant's, an ops action of each
        ours, _ = await new_deployment(gateway.store, progressed(0), DONE, app=app)
        theirs, _ = await new_deployment(gateway.store, progressed(0), DONE, tenant="globex")
        await gateway.store.append(
            subjects.ops("globex", "web"),
            [
                OpsActionSucceeded(
                    action_id="g", action=OpsAction.SCALE, namespace="globex", target="t"
                )
            ],
            cause=CAUSE,
        )
        await gateway.store.append(
            subjects.ops("acme", app),
            [OpsActionSucceeded(action_id="o", action=OpsAction.SCALE, namespace=NS, target="t")],
            cause=CAUSE,
        )
        # assert
        stages = await s.wait_for("stage", 2)
        (done,) = await s.wait_for("done", 1)
        (ops,) = await s.wait_for("ops", 1)
        await asyncio.sleep(0.3)
    assert {e["deploymentId"] for e in stages} == {ours}
    assert done["deploymentId"] == ours
    assert ops["actionId"] == "o"
    assert theirs not in "".join(e.data for e in s.events)


async def test_the_tenant_feed_resumes_exactly_and_follows_deployments_started_before(
    gateway: Gateway,
) -> None:
    """A deployment requested before the client's position still belongs to the feed."""
    dep, _ = await new_deployment(gateway.store, progressed(0))
    async with Stream(gateway.url, "/api/v1/events", gateway.auth()) as s:
        assert s.status == 200
        await s.wait_for("ready", 1)
        await gateway.store.append(subjects.deployment(dep), [progressed(1)], cause=CAUSE)
        (first,) = await s.wait_for("stage", 1)
        seen = s.last_id
    missed = StageStarted(stage=Stage.VERIFY, deadline=T0)
    await gateway.store.append(subjects.deployment(dep), [missed, DONE], cause=CAUSE)
    headers = {**gateway.auth(), "Last-Event-ID": seen}
    async with Stream(gateway.url, "/api/v1/events", headers) as again:
        assert again.status == 200
        (stage,) = await again.wait_for("stage", 1)
        (done,) = await again.wait_for("done", 1)
        assert not again.of("ready")
    assert first["detail"] == {"n": 1}
    assert stage["stage"] == "verify" and done["deploymentId"] == dep


async def test_a_slow_app_stream_client_is_cut_off_while_a_fast_one_keeps_up(
    gateway: Gateway,
) -> None:
    """The joined stream keeps the fan-out's bound: a client that reads nothing is cut
    off (``SLOW_CONSUMER``), and nobody waits for it."""
    app = new_app()
    await deployed(gateway.store, app)
    name = f"{app}-blue-abc-1"
    metrics = gateway.built.dependencies.metrics
    cut_before = slow_consumer_cuts(metrics)
    path = f"/api/v1/apps/{app}/events"
    slow = silent_get(gateway.url, path, gateway.tokens["acme-admin"])
    try:
        async with Stream(gateway.url, path, gateway.auth()) as fast:
            await fast.wait_for("app", 1)
            sent = 0
            for n in range(400):
                big = pod(app, name, ready=False, waiting=f"{n}:" + "x" * 60_000)
                await observe(gateway.store, big)
                sent += 1
                if slow_consumer_cuts(metrics) > cut_before:
                    break
            await eventually(lambda: slow_consumer_cuts(metrics) > cut_before, what="a cut")
            got = await fast.wait_for("pod", sent)
            assert [p["waitingReason"].split(":")[0] for p in got[-sent:]] == [
                str(n) for n in range(sent)
            ]
        assert (await read_to_close(slow)).startswith(b"HTTP/1.1 200")
    finally:
        slow.close()


async def test_the_app_now_reflects_what_a_client_just_saw(
    store: EventStore, gateway: Gateway, tmp_path: Path
) -> None:
    """Read your writes: a GET made after events were stored (as by a client that saw
    them on a stream) waits, bounded, for the read model to reach them."""
    # arrange: a gateway whose projector runs beside it, and is held back
    db_path = tmp_path / "lagging.db"
    config = GatewayConfig(run_projector=False, gc_freeze=False)
    secrets = SecretsSettings(key=base64.b64encode(os.urandom(32)).decode())
    app = new_app()
    await deployed(store, app)
    async with another_gateway(store, db_path, config, secrets) as (url, built):
        projector = asyncio.create_task(Projector(store, built.database).run())
        token = await create_token(store, built, "acme", ["read"])
        # caught up on the run's whole history first, so the held-back part is just ours
        await eventually(
            lambda: _caught_up(store, built.database), what="the projector", within=120
        )
        projector.cancel()
        await asyncio.gather(projector, return_exceptions=True)
        name = f"{app}-blue-abc-1"
        await observe(store, pod(app, name))
        await observe(store, sample(name, 42.0))
        # act: ask, and let the projector go on a moment later
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            asked = asyncio.create_task(
                client.get(f"/api/v1/apps/{app}", headers={"Authorization": f"Bearer {token}"})
            )
            await asyncio.sleep(0.3)
            projector = asyncio.create_task(Projector(store, built.database).run())
            response = await asked
        projector.cancel()
        await asyncio.gather(projector, return_exceptions=True)
    # assert
    view = response.json()["data"]
    assert view["liveColour"] == "blue"
    assert [(p["name"], p["cpuMillicores"]) for p in view["pods"]] == [(name, 42.0)]


async def _caught_up(store: EventStore, database: Any) -> bool:
    async with database.connect() as conn:
        for stream in PROJECTED:
            done, _ = await read_checkpoint(conn, NAME, stream)
            if done < await store.stream_last_position(stream):
                return False
    return True


async def test_a_browser_follows_the_app_and_the_feed_with_a_stream_ticket(
    gateway: Gateway,
) -> None:
    """EventSource cannot send a header: the streams take ``?ticket=``; the REST read does
    not (a ticket is for streams only)."""
    app = new_app()
    await deployed(gateway.store, app)
    async with gateway.client("acme-read") as client:
        ticket = (await client.post("/api/v1/stream-tickets")).json()["data"]["ticket"]
    async with Stream(gateway.url, f"/api/v1/apps/{app}/events?ticket={ticket}", {}) as s:
        assert s.status == 200
        (document,) = await s.wait_for("app", 1)
    assert document["app"] == app
    async with Stream(gateway.url, f"/api/v1/events?ticket={ticket}", {}) as feed:
        assert feed.status == 200
        await feed.wait_for("ready", 1)
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        rest = await client.get(f"/api/v1/apps/{app}", params={"ticket": ticket})
    assert rest.status_code == 401
    assert rest.json()["errorCode"] == "UNAUTHORIZED"
