"""The whole pipeline, request to result, on the in-memory store: every path, no NATS, no sleep.

Each test asks for a deployment with a ``StartDeployment`` (as the gateway does)
and lets the real handlers, pipeline, effect runner and domain run against a
fake cluster, registry and prober (``tests/support/orchestration.py``); time
moves only when a test moves it.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from flightdeck.events import subjects
from flightdeck.events.apps import AppReleased
from flightdeck.events.deployments import (
    Colour,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentRequested,
    Stage,
    StageFailed,
    colour_name,
)
from flightdeck.orchestrator.domain.manifests import FIELD_MANAGER, SWITCH_MANAGER
from flightdeck.orchestrator.domain.writes import KubeWriteError
from flightdeck.orchestrator.entrypoints.sample import send_start
from tests.support.orchestration import REGISTRY, TENANT, Behaviour, Verdict, World

pytestmark = pytest.mark.unit

DONE = [
    "deploy.requested",
    "deploy.colour_assigned",
    "deploy.stage_started:artifact",
    "deploy.stage_succeeded:artifact",
    "deploy.stage_started:apply",
    "deploy.stage_succeeded:apply",
    "deploy.stage_started:rollout",
    "deploy.stage_succeeded:rollout",
    "deploy.stage_started:expose",
    "deploy.stage_succeeded:expose",
    "deploy.stage_started:verify",
    "deploy.stage_succeeded:verify",
    "deploy.stage_started:switch",
]
UNTIL_ROLLOUT = DONE[:7]


@pytest.fixture
async def world() -> World:
    world = await World.start()
    world.push_image("web", "v1")
    world.push_image("web", "v2")
    return world


async def test_a_first_deployment_goes_through_every_stage_to_blue(world: World) -> None:
    dep = await world.deploy("web", "v1")

    assert await world.milestones(dep) == [
        *DONE,
        "deploy.traffic_switched",
        "deploy.stage_succeeded:switch",
        "deploy.stage_started:complete",
        "deploy.stage_succeeded:complete",
        "deploy.completed",
    ]
    done = await world.outcome(dep)
    assert isinstance(done, DeploymentCompleted)
    assert (done.colour, done.previous_colour) == (Colour.BLUE, None)
    assert done.url == "http://web.localhost/"
    assert done.event_count == len(await world.events(dep))
    assert world.cluster.applied("Deployment") == [colour_name("web", Colour.BLUE)]
    assert [w.manager for w in world.cluster.writes if w.kind == "Service"] == [
        FIELD_MANAGER,
        FIELD_MANAGER,
        SWITCH_MANAGER,  # the selector, moved by Switch alone
    ]
    released = await world.store.read_last(subjects.app("apps", "web"))
    assert released is not None and isinstance(released.event, AppReleased)
    assert released.event.serving_colour is Colour.BLUE
    assert len(world.timers) == 0  # nothing left to wake


async def test_the_next_deployment_goes_green_and_scales_blue_down_after_the_delay(
    world: World,
) -> None:
    await world.deploy("web", "v1")
    dep = await world.deploy("web", "v2")
    assert (await world.milestones(dep))[-1] == "deploy.traffic_switched"  # blue still runs

    await world.later(29)
    assert world.cluster.scaled_to_zero == []
    await world.later(1)

    assert world.cluster.scaled_to_zero == [colour_name("web", Colour.BLUE)]
    assert (await world.milestones(dep))[-6:] == [
        "deploy.traffic_switched",
        "deploy.colour_scaled_down",
        "deploy.stage_succeeded:switch",
        "deploy.stage_started:complete",
        "deploy.stage_succeeded:complete",
        "deploy.completed",
    ]
    done = await world.outcome(dep)
    assert (done.colour, done.previous_colour) == (Colour.GREEN, Colour.BLUE)


async def test_the_request_keeps_who_asked_and_the_command_is_recorded_once(world: World) -> None:
    command = world.command("web", "v1", namespace="apps", tenant=TENANT, registry=REGISTRY)
    await send_start(world.store, command, actor="user:ada")
    await send_start(world.store, command, actor="user:ada")  # a retry: same deployment id
    await world.settle()

    records = await world.events(command.deployment_id)
    requests = [r for r in records if isinstance(r.event, DeploymentRequested)]
    assert len(requests) == 1 and requests[0].actor == "user:ada"
    assert requests[0].event.image == f"{REGISTRY}/web:v1"
    assert isinstance(await world.outcome(command.deployment_id), DeploymentCompleted)


async def test_another_command_naming_a_taken_deployment_id_records_nothing(world: World) -> None:
    dep = await world.deploy("web", "v1")
    before = await world.events(dep)

    with capture_logs() as logs:
        await world.deploy("web", "v2", deployment_id=dep)

    assert await world.events(dep) == before
    assert [entry["deployment"] for entry in logs if "another request" in entry["event"]] == [dep]


async def test_an_image_that_appears_later_is_waited_for(world: World) -> None:
    dep = await world.deploy("web", "v3")
    assert (await world.milestones(dep))[-1] == "deploy.stage_started:artifact"

    await world.push_later("web", "v3")

    assert isinstance(await world.outcome(dep), DeploymentCompleted)


async def test_a_restarted_orchestrator_resends_a_lost_watch_and_finishes(world: World) -> None:
    dep = await world.deploy("web", "v3")
    world.registry.waiting.clear()  # the watch died with a replica of the poller
    world.push_image("web", "v3")

    await world.restart()

    assert isinstance(await world.outcome(dep), DeploymentCompleted)
    assert len([r for r in await world.events(dep) if r.type == "deploy.requested"]) == 1


async def test_an_image_that_never_appears_fails_artifact_at_its_deadline(world: World) -> None:
    dep = await world.deploy("web", "never")

    await world.later(59)
    assert (await world.milestones(dep))[-1] == "deploy.stage_started:artifact"
    await world.later(1)

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "DEPLOYMENT_TIMEOUT"
    assert (failed.reason, failed.timeout_s) == ("ARTIFACT_TIMEOUT", 60)
    assert world.cluster.writes == []


async def test_a_missing_repository_fails_at_once(world: World) -> None:
    world.registry.missing_repositories.add("ghost")

    dep = await world.deploy("ghost", "v1")

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "REPOSITORY_NOT_FOUND"
    assert failed.rolled_back is False and world.cluster.writes == []


async def test_an_apply_the_cluster_refuses_fails_at_once_and_cleans_up(world: World) -> None:
    world.cluster.refusals.append(KubeWriteError("apply Deployment: 422", permanent=True))

    dep = await world.deploy("web", "v1")

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "APPLY_REJECTED"
    assert failed.rolled_back is True
    assert world.cluster.scaled_to_zero == [colour_name("web", Colour.BLUE)]


async def test_a_transient_apply_error_is_retried_then_succeeds(world: World) -> None:
    world.cluster.refusals.append(KubeWriteError("apply Deployment: 503", permanent=False))

    dep = await world.deploy("web", "v1")
    assert (await world.milestones(dep))[-1] == "deploy.stage_started:apply"
    await world.later(2)  # retry_after_s

    assert isinstance(await world.outcome(dep), DeploymentCompleted)


async def test_an_apply_failing_every_attempt_fails_the_deployment(world: World) -> None:
    world.cluster.refusals += [KubeWriteError("apply: 503", permanent=False) for _ in range(3)]

    dep = await world.deploy("web", "v1")
    await world.later(2)
    await world.later(2)

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "APPLY_FAILED"
    assert "3 times" in failed.message


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [(Behaviour.PULL_FAILS, "IMAGE_PULL_FAILED"), (Behaviour.CRASHES, "CRASH_LOOP")],
)
async def test_pods_that_cannot_run_fail_the_rollout_at_once(
    world: World, behaviour: Behaviour, code: str
) -> None:
    world.cluster.behaviour["web"] = behaviour

    dep = await world.deploy("web", "v1")

    assert (await world.milestones(dep))[: len(UNTIL_ROLLOUT)] == UNTIL_ROLLOUT
    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == code
    assert failed.stage.value == "rollout" and failed.serving_colour is None
    assert world.cluster.scaled_to_zero == [colour_name("web", Colour.BLUE)]


async def test_a_rollout_that_never_completes_times_out_and_the_old_colour_keeps_serving(
    world: World,
) -> None:
    await world.deploy("web", "v1")
    world.cluster.behaviour["web"] = Behaviour.STUCK
    dep = await world.deploy("web", "v2")

    await world.later(60)

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "DEPLOYMENT_TIMEOUT"
    assert (failed.stage, failed.reason) == (Stage.ROLLOUT, "ROLLOUT_TIMEOUT")
    assert failed.timeout_s == 60
    assert failed.serving_colour is Colour.BLUE
    assert world.cluster.scaled_to_zero == [colour_name("web", Colour.GREEN)]
    switches = [w for w in world.cluster.writes if w.manager == SWITCH_MANAGER]
    assert len(switches) == 1  # the first deployment's: traffic never moved to green


@pytest.mark.parametrize(
    ("verdict", "code"),
    [(Verdict.FAIL, "HEALTH_CHECK_FAILED"), (Verdict.INVALID_TARGET, "VERIFY_TARGET_INVALID")],
)
async def test_a_failed_verification_fails_before_the_switch(
    world: World, verdict: Verdict, code: str
) -> None:
    world.prober.verdict = verdict

    dep = await world.deploy("web", "v1")

    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == code
    assert failed.stage.value == "verify"
    assert [w for w in world.cluster.writes if w.manager == SWITCH_MANAGER] == []
    (asked,) = world.prober.asked
    assert asked.host_header == "web-blue.localhost" and asked.checks == 3


async def test_a_cancel_during_rollout_cancels_and_cleans_up(world: World) -> None:
    world.cluster.behaviour["web"] = Behaviour.STUCK
    dep = await world.deploy("web", "v1")

    await world.cancel(dep, "wrong tag")

    cancelled = await world.outcome(dep)
    assert isinstance(cancelled, DeploymentCancelled) and cancelled.reason == "wrong tag"
    failed = [r.event for r in await world.events(dep) if isinstance(r.event, StageFailed)]
    assert [f.error_code for f in failed] == ["CANCELLED"]
    assert world.cluster.scaled_to_zero == [colour_name("web", Colour.BLUE)]


async def test_a_cancel_after_the_switch_is_too_late(world: World) -> None:
    await world.deploy("web", "v1")
    dep = await world.deploy("web", "v2")

    await world.cancel(dep)
    await world.later(30)

    assert isinstance(await world.outcome(dep), DeploymentCompleted)


@pytest.mark.parametrize(
    ("namespace", "code"),
    [("globex", "NAMESPACE_NOT_OWNED"), ("kube-system", "NAMESPACE_PROTECTED")],
)
async def test_a_target_outside_the_tenant_is_refused_before_any_claim_or_write(
    world: World, namespace: str, code: str
) -> None:
    dep = await world.deploy("web", "v1", namespace=namespace)

    assert await world.milestones(dep) == ["deploy.requested", "deploy.failed"]
    failed = await world.outcome(dep)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == code
    assert world.cluster.writes == []
    assert await world.store.read(subjects.app(namespace, "web")) == []


async def test_a_second_deployment_of_a_busy_app_fails_with_app_busy(world: World) -> None:
    world.cluster.behaviour["web"] = Behaviour.STUCK
    first = await world.deploy("web", "v1")

    second = await world.deploy("web", "v2")

    failed = await world.outcome(second)
    assert isinstance(failed, DeploymentFailed) and failed.error_code == "APP_BUSY"
    assert first in failed.message
