"""Ops routes (ADR 0022) over HTTP: a real gateway, NATS and read model, and the
orchestrator's own ops handler writing to the fake cluster of the orchestrator's port.

Every refusal is one JSON error and sends nothing; another tenant's app answers
exactly like an unknown one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from flightdeck.events import new_id, streams, subjects
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.cluster import ContainerPhase, ContainerState, PodObserved
from flightdeck.events.deployments import Colour, DeploymentCompleted, DeploymentStatus
from flightdeck.eventstore import EventStore
from flightdeck.gateway.domain.ops import OpsRate
from flightdeck.gateway.entrypoints.app import create_app
from flightdeck.runtime.ownership import Ownership
from tests.integration.gateway.conftest import CAUSE, Gateway, home, new_deployment
from tests.support.fake_cluster import FakeCluster
from tests.support.intake import ops_intake
from tests.support.serving import free_port, serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def cluster(store: EventStore) -> AsyncIterator[FakeCluster]:
    fake = FakeCluster()
    async with ops_intake(store, fake):
        yield fake


def pod(namespace: str, name: str, app: str) -> PodObserved:
    container = ContainerState(
        name="app", image="app", phase=ContainerPhase.RUNNING, ready=True, restart_count=0
    )
    return PodObserved(
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        labels={"app": app, "colour": "blue"},
        owner=f"{app}-blue",
        phase="Running",
        ready=True,
        node="node-1",
        pod_ip="10.1.0.2",
        host_ip="192.168.0.2",
        containers=[container],
        resource_version="1",
    )


async def live_app(gateway: Gateway, tenant: str = "acme", *, releases: int = 1) -> str:
    """An app of ``tenant`` serving on blue (``releases`` successful deployments), with
    one pod, claimed and projected; its name."""
    store, app = gateway.store, f"app-{new_id()[:8]}"
    ns = home(tenant)
    await Ownership(store).claim_app(tenant, ns, app, "first", CAUSE)
    for n in range(releases):
        dep, colour = new_id(), Colour.BLUE if n % 2 == 0 else Colour.GREEN
        await store.append(
            subjects.app(ns, app),
            [
                AppSlotClaimed(
                    namespace=ns, app=app, deployment_id=dep, colour=colour, previous_colour=None
                ),
                AppReleased(
                    namespace=ns,
                    app=app,
                    deployment_id=dep,
                    outcome=DeploymentStatus.SUCCEEDED,
                    serving_colour=colour,
                ),
            ],
            cause=CAUSE,
        )
    name = f"{app}-blue-abc12"
    await store.append(subjects.cluster_object(ns, "Pod", name), [pod(ns, name, app)], cause=CAUSE)
    await eventually(lambda: gateway.built.read_model.app_namespaces(tenant, app))
    return app


async def commands_sent(store: EventStore) -> int:
    return await store.stream_last_position(streams.COMMANDS)


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errorCode"]


def anonymous(response: httpx.Response, name: str) -> tuple[int, dict[str, Any]]:
    """Status and body without the time, ``name`` (an app or id) written as ``X``."""
    body = response.json()
    body.pop("timestamp")
    return response.status_code, {k: str(v).replace(name, "X") for k, v in body.items()}


async def test_scale_answers_202_with_the_outcome_and_names_the_key(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app = await live_app(gateway)

    async with gateway.client() as http:
        answer = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 3})
        data = answer.json()["data"]
        read = await http.get(data["actionUrl"])

    assert answer.status_code == 202, answer.text
    assert (data["status"], data["action"], data["replicas"]) == ("SUCCEEDED", "scale", 3)
    assert data["requestedBy"] == "test" and data["detail"]["deployment"] == f"{app}-blue"
    assert cluster.scaled == [(f"{app}-blue", 3)]
    assert read.status_code == 200 and read.json()["data"]["status"] == "SUCCEEDED"


async def test_restarts_and_a_rollback_reach_the_cluster_or_the_pipeline(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app = await live_app(gateway, releases=2)  # green serves, blue served before

    async with gateway.client() as http:
        pod_restart = await http.post(f"/api/v1/apps/{app}/pods/{app}-blue-abc12/restart")
        rollout = await http.post(f"/api/v1/apps/{app}/restart")

    assert pod_restart.status_code == 202 and rollout.status_code == 202
    assert pod_restart.json()["data"]["status"] == "SUCCEEDED"
    assert cluster.deleted_pods == [f"{app}-blue-abc12"]
    assert [name for name, _ in cluster.restarted] == [f"{app}-green"]


@pytest.mark.parametrize("replicas", [-1, 51, "three", None])
async def test_replicas_out_of_range_are_400_naming_the_field_and_send_nothing(
    gateway: Gateway, cluster: FakeCluster, replicas: Any
) -> None:
    app = await live_app(gateway)
    before = await commands_sent(gateway.store)

    async with gateway.client() as http:
        answer = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": replicas})

    assert error(answer) == (400, "VALIDATION_ERROR")
    assert "replicas" in answer.json()["message"]
    assert await commands_sent(gateway.store) == before and cluster.scaled == []


async def test_another_tenants_app_answers_exactly_like_an_unknown_one(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    theirs = await live_app(gateway, "globex")
    before = await commands_sent(gateway.store)

    async with gateway.client("acme-admin") as http:
        foreign = await http.post(f"/api/v1/apps/{theirs}/scale", json={"replicas": 1})
        unknown = await http.post("/api/v1/apps/no-such-app/scale", json={"replicas": 1})
        foreign_pod = await http.post(f"/api/v1/apps/{theirs}/pods/{theirs}-blue-abc12/restart")
        unknown_pod = await http.post("/api/v1/apps/no-such-app/pods/no-such-app-x/restart")

    assert error(foreign) == (404, "APP_NOT_FOUND")
    assert anonymous(foreign, theirs) == anonymous(unknown, "no-such-app")
    assert error(foreign_pod) == error(unknown_pod) == (404, "APP_NOT_FOUND")
    assert await commands_sent(gateway.store) == before
    assert cluster.scaled == [] and cluster.deleted_pods == []


async def test_an_unknown_pod_or_another_apps_pod_is_404_and_deletes_nothing(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app, other = await live_app(gateway), await live_app(gateway)

    async with gateway.client() as http:
        unknown = await http.post(f"/api/v1/apps/{app}/pods/{app}-blue-zzzzz/restart")
        others = await http.post(f"/api/v1/apps/{app}/pods/{other}-blue-abc12/restart")

    assert error(unknown) == error(others) == (404, "POD_NOT_FOUND")
    assert cluster.deleted_pods == []


@pytest.mark.parametrize("who", ["acme-read", "acme-deploy"])
async def test_ops_need_the_ops_scope(gateway: Gateway, cluster: FakeCluster, who: str) -> None:
    app = await live_app(gateway)

    async with gateway.client(who) as http:
        answers = [
            await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 2}),
            await http.post(f"/api/v1/apps/{app}/restart"),
            await http.post(f"/api/v1/apps/{app}/rollback"),
            await http.post(f"/api/v1/deploy/{new_id()}/cancel"),
        ]

    assert {error(a) for a in answers} == {(403, "FORBIDDEN")}
    assert cluster.scaled == [] and cluster.restarted == []


async def test_ops_while_a_deployment_runs_are_app_busy(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app = await live_app(gateway)
    ns = home("acme")
    await gateway.store.append(
        subjects.app(ns, app),
        [
            AppSlotClaimed(
                namespace=ns,
                app=app,
                deployment_id="running",
                colour=Colour.GREEN,
                previous_colour=Colour.BLUE,
            )
        ],
        cause=CAUSE,
    )

    async with gateway.client() as http:
        scale = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 2})
        restart = await http.post(f"/api/v1/apps/{app}/restart")

    assert error(scale) == error(restart) == (409, "APP_BUSY")
    assert "running" in scale.json()["message"]
    assert cluster.scaled == [] and cluster.restarted == []


async def test_the_same_idempotency_key_is_the_same_action_and_another_body_conflicts(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app = await live_app(gateway)
    key = {"Idempotency-Key": f"scale-{new_id()}"}

    async with gateway.client() as http:
        first = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 4}, headers=key)
        again = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 4}, headers=key)
        other = await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 5}, headers=key)

    assert first.status_code == again.status_code == 202
    assert first.json()["data"]["actionId"] == again.json()["data"]["actionId"]
    assert error(other) == (409, "CONFLICT")
    assert cluster.scaled == [(f"{app}-blue", 4)]


async def test_rollback_needs_an_earlier_release(gateway: Gateway, cluster: FakeCluster) -> None:
    app = await live_app(gateway, releases=1)

    async with gateway.client() as http:
        answer = await http.post(f"/api/v1/apps/{app}/rollback")

    assert error(answer) == (409, "NO_PREVIOUS_RELEASE")


async def test_cancel_of_a_running_deployment_and_the_refusals(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    running, _ = await new_deployment(gateway.store, app=f"c-{new_id()[:8]}")
    finished, _ = await new_deployment(
        gateway.store,
        DeploymentCompleted(
            colour=Colour.BLUE,
            url="http://x/",
            stage_durations_ms={},
            total_duration_ms=1,
            new_colour_stats=None,
            old_colour_stats=None,
        ),
        app=f"c-{new_id()[:8]}",
    )
    theirs, _ = await new_deployment(gateway.store, tenant="globex", app=f"c-{new_id()[:8]}")

    async with gateway.client() as http:
        cancelled = await http.post(f"/api/v1/deploy/{running}/cancel")
        too_late = await http.post(f"/api/v1/deploy/{finished}/cancel")
        foreign = await http.post(f"/api/v1/deploy/{theirs}/cancel")
        nobody = new_id()
        unknown = await http.post(f"/api/v1/deploy/{nobody}/cancel")

    assert cancelled.status_code == 202, cancelled.text
    data = cancelled.json()["data"]
    assert (data["status"], data["deploymentId"]) == ("SUCCEEDED", running)
    assert data["detail"]["status"] == "CANCELLED"
    assert error(too_late) == (409, "DEPLOYMENT_FINISHED")
    assert error(foreign) == (400, "DEPLOYMENT_NOT_FOUND")
    assert anonymous(foreign, theirs) == anonymous(unknown, nobody)


async def test_a_tenant_past_its_rate_gets_429_with_retry_after(gateway: Gateway) -> None:
    deps = gateway.built.dependencies
    limited = dataclasses.replace(
        deps, operating=dataclasses.replace(deps.operating, rate=OpsRate(6.0, 2))
    )
    port = free_port()
    server, task = await serve(create_app(gateway.built.config, limited), port)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=gateway.auth(), timeout=30
        ) as http:
            answers = [await http.post("/api/v1/apps/nothing/restart") for _ in range(3)]
    finally:
        server.should_exit = True
        await task

    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[2].json()["errorCode"] == "RATE_LIMITED"
    assert answers[2].headers["retry-after"] == "10"


async def test_reading_an_action_from_the_read_model_and_the_refusals(
    gateway: Gateway, cluster: FakeCluster
) -> None:
    app, theirs = await live_app(gateway), await live_app(gateway, "globex")
    async with gateway.client("globex-admin") as other:
        foreign = (await other.post(f"/api/v1/apps/{theirs}/restart")).json()["data"]
    async with gateway.client() as http:
        done = (await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 2})).json()
        action = done["data"]["actionId"]
        await eventually(
            lambda: gateway.built.read_model.ops_action("acme", app, action),
            what="the action's row",
        )
        await eventually(
            lambda: _row_finished(gateway, app, action), what="the outcome in the read model"
        )
        projected = await http.get(f"/api/v1/apps/{app}/actions/{action}")
        unknown_action = await http.get(f"/api/v1/apps/{app}/actions/{new_id()}")
        bad_action = await http.get(f"/api/v1/apps/{app}/actions/no%20such")
        other_tenant = await http.get(f"/api/v1/apps/{theirs}/actions/{foreign['actionId']}")
        unknown_app = await http.get(f"/api/v1/apps/zz{theirs[2:]}/actions/{foreign['actionId']}")

    assert projected.status_code == 200
    view = projected.json()["data"]
    assert (view["status"], view["replicas"], view["requestedBy"]) == ("SUCCEEDED", 2, "test")
    assert view["finishedAt"] and view["detail"]["deployment"] == f"{app}-blue"
    assert "finishedAt" not in view["detail"]
    assert error(unknown_action) == (404, "ACTION_NOT_FOUND")
    assert error(bad_action) == (400, "VALIDATION_ERROR")
    assert error(other_tenant) == (404, "APP_NOT_FOUND")
    assert anonymous(other_tenant, theirs) == anonymous(unknown_app, f"zz{theirs[2:]}")


async def _row_finished(gateway: Gateway, app: str, action: str) -> bool:
    row = await gateway.built.read_model.ops_action("acme", app, action)
    return row is not None and row["status"] == "SUCCEEDED"
