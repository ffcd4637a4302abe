"""Ops actions (ADR 0022) through the orchestrator's real handler, pipeline and store,
against the fake cluster: request recorded once with its actor, the cluster write, the
outcome with its code; cancel and rollback through the pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.events import Cause, subjects
from flightdeck.events.audit import (
    OpsAction,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.cluster import PodObserved
from flightdeck.events.commands import rollback_deployment_id
from flightdeck.events.deployments import (
    Colour,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentRequested,
    colour_name,
)
from flightdeck.orchestrator.domain.manifests import SWITCH_MANAGER
from flightdeck.orchestrator.domain.writes import KubeWriteError
from tests.support.orchestration import NAMESPACE, TENANT, Behaviour, World

pytestmark = pytest.mark.unit


@pytest.fixture
async def world() -> World:
    world = await World.start()
    for tag in ("v1", "v2", "v3"):
        world.push_image("web", tag)
    await world.claim("web")
    return world


async def live(world: World, *tags: str) -> list[str]:
    """Deploy each tag to completion (the old colour scaled down); their ids."""
    ids = []
    for tag in tags:
        ids.append(await world.deploy("web", tag))
        await world.later(30)
    return ids


async def action_events(world: World, app: str = "web") -> list[Any]:
    return await world.store.read(subjects.ops(TENANT, app))


async def outcome(world: World, action_id: str) -> OpsActionSucceeded | OpsActionFailed:
    found = [
        r.event
        for r in await action_events(world)
        if isinstance(r.event, OpsActionSucceeded | OpsActionFailed)
        and r.event.action_id == action_id
    ]
    assert len(found) == 1, found
    return found[0]


async def test_scale_patches_the_live_colour_and_records_who_asked(world: World) -> None:
    await live(world, "v1")

    action = await world.ops(OpsAction.SCALE, replicas=3)

    assert world.cluster.scaled == [(colour_name("web", Colour.BLUE), 3)]
    requested, done = await action_events(world)
    assert isinstance(requested.event, OpsActionRequested)
    assert (requested.actor, requested.event.replicas, requested.event.token_id) == (
        "key:ada",
        3,
        "tok-1",
    )
    assert isinstance(done.event, OpsActionSucceeded) and done.event.action_id == action
    assert done.event.detail["replicas"] == 3 and done.causation_id == requested.id


async def test_a_rollout_restart_stamps_the_request_time_once_however_often_it_comes(
    world: World,
) -> None:
    await live(world, "v1", "v2")

    action = await world.ops(OpsAction.RESTART_ROLLOUT)
    await world.ops(OpsAction.RESTART_ROLLOUT, action_id=action)  # a redelivery or a retry

    ((name, stamp),) = world.cluster.restarted
    requested = (await action_events(world))[0]
    assert name == colour_name("web", Colour.GREEN)
    assert stamp == requested.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(await action_events(world)) == 2


async def test_an_action_recorded_but_never_finished_is_finished_by_the_next_delivery(
    world: World,
) -> None:
    await live(world, "v1")
    request = OpsActionRequested(
        action_id="a-crash",
        tenant=TENANT,
        app="web",
        action=OpsAction.SCALE,
        namespace=NAMESPACE,
        target="",
        replicas=4,
    )
    await world.store.append(subjects.ops(TENANT, "web"), [request], cause=Cause.root("key:ada"))

    await world.ops(OpsAction.SCALE, replicas=9, action_id="a-crash")  # the same id again

    assert world.cluster.scaled == [(colour_name("web", Colour.BLUE), 4)]  # as recorded
    assert isinstance(await outcome(world, "a-crash"), OpsActionSucceeded)


async def test_a_pod_restart_deletes_only_a_live_pod_of_the_app(world: World) -> None:
    await live(world, "v1")
    pods = [
        r.event
        for r in await world.store.read_latest(f"fd.evt.k8s.{NAMESPACE}.pod.*")
        if isinstance(r.event, PodObserved)
    ]
    pod = pods[0].name

    ok = await world.ops(OpsAction.RESTART_POD, target=pod)
    unknown = await world.ops(OpsAction.RESTART_POD, target="web-blue-nope")

    assert world.cluster.deleted_pods == [pod]
    assert isinstance(await outcome(world, ok), OpsActionSucceeded)
    missing = await outcome(world, unknown)
    assert isinstance(missing, OpsActionFailed) and missing.error_code == "POD_NOT_FOUND"


async def test_a_pod_of_another_app_is_not_found(world: World) -> None:
    world.push_image("api", "v1")
    await world.claim("api")
    await world.deploy("api", "v1")
    await live(world, "v1")
    api_pod = next(
        r.event.name
        for r in await world.store.read_latest(f"fd.evt.k8s.{NAMESPACE}.pod.*")
        if isinstance(r.event, PodObserved) and r.event.labels["app"] == "api"
    )

    action = await world.ops(OpsAction.RESTART_POD, app="web", target=api_pod)

    failed = await outcome(world, action)
    assert isinstance(failed, OpsActionFailed) and failed.error_code == "POD_NOT_FOUND"
    assert world.cluster.deleted_pods == []


async def test_ops_while_a_deployment_runs_are_refused_app_busy(world: World) -> None:
    await live(world, "v1")
    world.cluster.behaviour["web"] = Behaviour.STUCK
    await world.deploy("web", "v2")

    actions = [
        await world.ops(OpsAction.SCALE, replicas=2),
        await world.ops(OpsAction.RESTART_ROLLOUT),
        await world.ops(OpsAction.ROLLBACK),
    ]

    for action in actions:
        failed = await outcome(world, action)
        assert isinstance(failed, OpsActionFailed) and failed.error_code == "APP_BUSY"
    assert world.cluster.scaled == [] and world.cluster.restarted == []


async def test_an_app_the_tenant_does_not_own_is_not_found(world: World) -> None:
    await live(world, "v1")

    action = await world.ops(OpsAction.SCALE, replicas=1, tenant="globex")

    events = await world.store.read(subjects.ops("globex", "web"))
    assert isinstance(events[-1].event, OpsActionFailed)
    assert events[-1].event.error_code == "APP_NOT_FOUND" and events[-1].event.action_id == action
    assert world.cluster.scaled == []


async def test_kubernetes_refusing_fails_the_action_with_its_reason(world: World) -> None:
    await live(world, "v1")
    world.cluster.ops_refusals.append(
        KubeWriteError("scale deployment web-blue: 422 Invalid: bad", permanent=True, status=422)
    )

    action = await world.ops(OpsAction.SCALE, replicas=2)

    failed = await outcome(world, action)
    assert isinstance(failed, OpsActionFailed) and failed.error_code == "KUBERNETES_REFUSED"
    assert "422 Invalid: bad" in failed.message


async def test_cancel_mid_rollout_removes_the_new_colour_and_the_old_keeps_serving(
    world: World,
) -> None:
    await live(world, "v1")
    world.cluster.behaviour["web"] = Behaviour.STUCK
    second = await world.deploy("web", "v2")

    action = await world.ops(OpsAction.CANCEL, target=second)

    done = await outcome(world, action)
    assert isinstance(done, OpsActionSucceeded) and done.detail["status"] == "CANCELLED"
    cancelled = await world.outcome(second)
    assert isinstance(cancelled, DeploymentCancelled)
    assert cancelled.serving_colour is Colour.BLUE and "cancelled by key:ada" in cancelled.reason
    assert world.cluster.scaled_to_zero[-1] == colour_name("web", Colour.GREEN)
    switches = [w for w in world.cluster.writes if w.manager == SWITCH_MANAGER]
    assert len(switches) == 1  # v1's; v2 never moved the selector
    slots = (await world.store.read(subjects.app(NAMESPACE, "web")))[-1].event
    assert slots.serving_colour is Colour.BLUE


async def test_cancel_of_a_finished_or_unknown_deployment_fails_with_its_code(
    world: World,
) -> None:
    (first,) = await live(world, "v1")

    finished = await world.ops(OpsAction.CANCEL, target=first)
    unknown = await world.ops(OpsAction.CANCEL, target="nope")

    assert (await outcome(world, finished)).error_code == "DEPLOYMENT_FINISHED"  # type: ignore[union-attr]
    assert (await outcome(world, unknown)).error_code == "DEPLOYMENT_NOT_FOUND"  # type: ignore[union-attr]


async def test_rollback_redeploys_the_previous_release_as_a_deployment_of_its_own(
    world: World,
) -> None:
    await live(world, "v1", "v2")

    action = await world.ops(OpsAction.ROLLBACK, actor="key:oncall")
    await world.later(30)

    done = await outcome(world, action)
    assert isinstance(done, OpsActionSucceeded)
    rollback = rollback_deployment_id(action)
    assert done.detail["deploymentId"] == rollback
    first = (await world.events(rollback))[0]
    assert isinstance(first.event, DeploymentRequested) and first.event.tag == "v1"
    assert first.actor == "key:oncall"
    finished = await world.outcome(rollback)
    assert isinstance(finished, DeploymentCompleted) and finished.colour is Colour.BLUE


async def test_rollback_without_an_earlier_release_fails(world: World) -> None:
    await live(world, "v1")

    action = await world.ops(OpsAction.ROLLBACK)

    failed = await outcome(world, action)
    assert isinstance(failed, OpsActionFailed) and failed.error_code == "NO_PREVIOUS_RELEASE"
