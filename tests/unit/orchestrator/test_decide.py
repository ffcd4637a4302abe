"""The pipeline's decisions: given a deployment's events, when an input arrives, then events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.cluster import Condition
from flightdeck.events.commands import CancelDeployment, VerifyColour, WatchImage
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    ColourScaledDown,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
    colour_name,
)
from flightdeck.events.probes import ProbeCompleted, ProbePurpose, VerificationCompleted
from flightdeck.orchestrator.domain import effects as fx
from flightdeck.orchestrator.domain.inputs import (
    Busy,
    EffectDone,
    Observed,
    Refused,
    Resume,
    Start,
    Tick,
)
from flightdeck.orchestrator.domain.timing import next_wakeup
from tests.unit.orchestrator.story import (
    DEP,
    T0,
    Story,
    deployment,
    ingress,
    pod,
    stats,
    types,
)

pytestmark = pytest.mark.unit

IMAGE = ImageObserved(repository="web", tag="v2", digest="sha256:abc", pushed_at=T0, size_bytes=42)


def verdict(
    passed: bool, colour: Colour = Colour.BLUE, old: Colour | None = None
) -> VerificationCompleted:
    return VerificationCompleted(
        deployment_id=DEP,
        passed=passed,
        new=stats(colour, failures=0 if passed else 3),
        old=stats(old) if old else None,
        reason=None if passed else "3 of 3 checks failed",
    )


def story_at(stage: Stage, previous: Colour | None = None) -> Story:
    """A deployment that has just started ``stage``."""
    colour = previous.other() if previous else Colour.BLUE
    s = Story()
    s.then(Start(colour, previous))
    steps = [
        (Stage.APPLY, 1, Observed(IMAGE, 100)),
        (Stage.ROLLOUT, 2, EffectDone("apply")),
        (Stage.EXPOSE, 10, Observed(deployment(name=colour_name("web", colour)), 200)),
        (Stage.VERIFY, 11, Observed(ingress(), 300)),
        (Stage.SWITCH, 15, Observed(verdict(True, colour, previous), 400)),
    ]
    for reached, at, given in steps:
        if s.state.stage is stage:
            break
        events, _ = s.at(at).then(given)
        assert isinstance(events[-1], StageStarted) and events[-1].stage is reached, events
    assert s.state.stage is stage
    return s


# ------------------------------------------------------------------- start


def test_start_assigns_the_colour_and_opens_artifact_with_its_deadline() -> None:
    s = Story()
    events, effects = s.then(Start(Colour.BLUE, None))
    assert events == [
        ColourAssigned(colour=Colour.BLUE, previous_colour=None),
        StageStarted(stage=Stage.ARTIFACT, deadline=T0 + timedelta(seconds=60)),
    ]
    assert effects == [
        fx.SendCommand(
            "ecr-poller",
            "watch-image",
            WatchImage(
                repository="web", tag="v2", deadline=T0 + timedelta(seconds=60), deployment_id=DEP
            ),
        )
    ]


def test_start_twice_records_nothing_more() -> None:
    s = Story()
    s.then(Start(Colour.BLUE, None))
    assert s.when(Start(Colour.BLUE, None)) == []


def test_a_busy_app_fails_the_request_at_once() -> None:
    events = Story().at(1).when(Busy(holder="dep-0", serving=Colour.GREEN))
    assert events == [
        DeploymentFailed(
            stage=Stage.ARTIFACT,
            error_code="APP_BUSY",
            message="deployment dep-0 of web is still running",
            rolled_back=False,
            serving_colour=Colour.GREEN,
            total_duration_ms=1000,
        )
    ]


def test_a_refused_target_fails_the_request_before_anything_touches_the_cluster() -> None:
    refused = Refused("NAMESPACE_PROTECTED", "namespace kube-system is reserved")
    events, effects = Story().at(2).then(refused)
    assert events == [
        DeploymentFailed(
            stage=Stage.ARTIFACT,
            error_code="NAMESPACE_PROTECTED",
            message="namespace kube-system is reserved",
            rolled_back=False,
            serving_colour=None,
            total_duration_ms=2000,
        )
    ]
    assert [type(e) for e in effects] == [fx.ReleaseApp]  # a no-op: the app was never claimed


def test_a_refusal_after_the_start_changes_nothing() -> None:
    s = Story()
    s.then(Start(Colour.BLUE, None))
    assert s.when(Refused("NAMESPACE_NOT_OWNED", "no")) == []


# ---------------------------------------------------------------- artifact


def test_image_observed_closes_artifact_and_applies() -> None:
    s = story_at(Stage.ARTIFACT)
    events, effects = s.at(3).then(Observed(IMAGE, 100))
    assert events[0] == StageSucceeded(
        stage=Stage.ARTIFACT,
        duration_ms=3000,
        detail={"digest": "sha256:abc", "pushed_at": T0.isoformat(), "size_bytes": 42},
    )
    assert events[1] == StageStarted(stage=Stage.APPLY, deadline=s.now + timedelta(seconds=60))
    [apply] = effects
    assert isinstance(apply, fx.Apply)
    kinds = [(m["kind"], m["metadata"]["name"]) for m in apply.manifests]
    assert kinds == [
        ("Deployment", "web-blue"),
        ("Service", "web-blue"),
        ("Service", "web"),
        ("Ingress", "web"),
    ]


def test_an_image_with_another_tag_is_not_ours() -> None:
    other = ImageObserved(repository="web", tag="v3", digest="d", pushed_at=None, size_bytes=None)
    assert story_at(Stage.ARTIFACT).when(Observed(other, 100)) == []


def test_image_missing_fails_artifact_and_nothing_reached_the_cluster() -> None:
    s = story_at(Stage.ARTIFACT)
    missing = ImageMissing(repository="web", tag="v2", waited_s=60, reason="no such tag")
    events, effects = s.at(60).then(Observed(missing, 100))
    assert types(events) == ["deploy.stage_failed", "deploy.failed"]
    failed = events[1]
    assert isinstance(failed, DeploymentFailed)
    assert (failed.error_code, failed.reason, failed.timeout_s) == (
        "DEPLOYMENT_TIMEOUT",
        "ARTIFACT_TIMEOUT",
        60,
    )
    assert (failed.rolled_back, failed.serving_colour) == (False, None)
    assert effects == [fx.ReleaseApp("apps", "web", DEP, s.state.status, None)]


def test_the_artifact_deadline_fails_the_stage_on_the_next_tick() -> None:
    s = story_at(Stage.ARTIFACT)
    assert s.at(59).when(Tick()) == []
    events = s.at(60).when(Tick())
    assert events[0] == StageFailed(
        stage=Stage.ARTIFACT,
        error_code="DEPLOYMENT_TIMEOUT",
        message="image web:v2 did not appear within 60s",
        duration_ms=60_000,
        reason="ARTIFACT_TIMEOUT",
        timeout_s=60,
    )
    assert types(events) == ["deploy.stage_failed", "deploy.failed"]
    failed = events[1]
    assert isinstance(failed, DeploymentFailed)
    assert (failed.error_code, failed.stage, failed.reason, failed.timeout_s) == (
        "DEPLOYMENT_TIMEOUT",
        Stage.ARTIFACT,
        "ARTIFACT_TIMEOUT",
        60,
    )


# ------------------------------------------------------------------- apply


def test_apply_done_opens_rollout_and_reads_what_was_observed_meanwhile() -> None:
    s = story_at(Stage.APPLY)
    events, effects = s.at(2).then(EffectDone("apply"))
    assert types(events) == ["deploy.stage_succeeded", "deploy.stage_started"]
    assert effects == [fx.ReadObject("apps", "Deployment", "web-blue")]


def test_a_failing_apply_is_retried_then_fails_the_stage() -> None:
    s = story_at(Stage.APPLY)
    events, effects = s.at(2).then(EffectDone("apply", error="503"))
    assert isinstance(events[0], StageProgressed) and effects == []
    assert s.at(2.5).when(Tick()) == []
    events, effects = s.at(3).then(Tick())
    assert events[0].detail == {"effect": "apply", "attempt": 2}
    assert isinstance(effects[0], fx.Apply)
    s.at(4).then(EffectDone("apply", error="503"))
    s.at(5).then(Tick())
    events, effects = s.at(6).then(EffectDone("apply", error="503"))
    assert types(events) == ["deploy.stage_failed"]  # then clean-up of what may be applied
    assert events[0].error_code == "APPLY_FAILED"
    assert effects == [fx.ScaleToZero("apps", "web-blue", "cleanup")]


def test_a_refused_apply_fails_at_once() -> None:
    s = story_at(Stage.APPLY)
    events = s.at(2).when(EffectDone("apply", error="422 invalid", permanent=True))
    assert events[0].error_code == "APPLY_REJECTED"


# ----------------------------------------------------------------- rollout


def test_each_pod_transition_is_recorded_once_and_late_ones_are_ignored() -> None:
    s = story_at(Stage.ROLLOUT)
    events, _ = s.at(3).then(Observed(pod("web-blue-1", phase="Pending", ready=False), 10))
    assert events == [
        StageProgressed(
            stage=Stage.ROLLOUT,
            message="pod web-blue-1 Pending",
            detail={"pod": "web-blue-1", "status": "Pending", "restarts": 0, "position": 10},
        )
    ]
    assert s.when(Observed(pod("web-blue-1", phase="Pending", ready=False), 11)) == []
    events, _ = s.then(Observed(pod("web-blue-1"), 12))
    assert events[0].message == "pod web-blue-1 Ready"
    assert s.when(Observed(pod("web-blue-1", phase="Pending", ready=False), 11)) == []


def test_pods_of_the_other_colour_are_not_ours() -> None:
    s = story_at(Stage.ROLLOUT)
    assert (
        s.when(Observed(pod("web-green-1", colour=Colour.GREEN, waiting="CrashLoopBackOff"), 10))
        == []
    )


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("ImagePullBackOff", "IMAGE_PULL_FAILED"),
        ("ErrImagePull", "IMAGE_PULL_FAILED"),
        ("CrashLoopBackOff", "CRASH_LOOP"),
        ("CreateContainerConfigError", "POD_FAILED"),
    ],
)
def test_a_fatal_waiting_reason_fails_fast_and_cleans_up_the_new_colour(
    reason: str, code: str
) -> None:
    s = story_at(Stage.ROLLOUT, previous=Colour.BLUE)
    events, effects = s.at(5).then(
        Observed(pod("web-green-1", colour=Colour.GREEN, waiting=reason), 10)
    )
    assert types(events) == ["deploy.stage_failed"]
    assert (events[0].stage, events[0].error_code) == (Stage.ROLLOUT, code)
    assert effects == [fx.ScaleToZero("apps", "web-green", "cleanup")]
    events, effects = s.at(6).then(EffectDone("cleanup"))
    assert events[0] == ColourScaledDown(colour=Colour.GREEN, deployment_name="web-green")
    failed = events[1]
    assert isinstance(failed, DeploymentFailed)
    assert (failed.stage, failed.error_code, failed.rolled_back, failed.serving_colour) == (
        Stage.ROLLOUT,
        code,
        True,
        Colour.BLUE,
    )
    assert effects == [fx.ReleaseApp("apps", "web", DEP, s.state.status, Colour.BLUE)]


def test_a_deployment_seen_before_our_apply_does_not_count() -> None:
    s = story_at(Stage.ROLLOUT)
    assert s.when(Observed(deployment(deployment_id="older"), 10)) == []


def test_rollout_progress_then_completion_opens_expose() -> None:
    s = story_at(Stage.ROLLOUT)
    events, _ = s.at(4).then(Observed(deployment(available=1), 10))
    assert events[0].message == "1 of 2 updated replicas available"
    assert s.when(Observed(deployment(available=1), 11)) == []
    events, effects = s.at(8).then(Observed(deployment(), 12))
    assert types(events) == ["deploy.stage_succeeded", "deploy.stage_started"]
    assert events[1].stage is Stage.EXPOSE
    assert effects == [fx.ReadObject("apps", "Ingress", "web")]


def test_progress_deadline_exceeded_fails_the_rollout() -> None:
    s = story_at(Stage.ROLLOUT)
    stuck = Condition(type="Progressing", status="False", reason="ProgressDeadlineExceeded")
    events = s.at(9).when(Observed(deployment(available=0, conditions=[stuck]), 10))
    assert events[0].error_code == "ROLLOUT_DEADLINE_EXCEEDED"


# ---------------------------------------------------------- expose, verify


def test_the_load_balancer_address_gives_the_urls_and_starts_verify() -> None:
    s = story_at(Stage.EXPOSE, previous=Colour.GREEN)
    assert s.when(Observed(ingress(address=None), 10)) == []
    events, effects = s.at(12).then(Observed(ingress(), 11))
    assert events[0].detail == {
        "address": "localhost",
        "port": 8088,
        "endpoint": "http://localhost:8088",
        "url": "http://web.localhost:8088/",
        "preview_url": "http://web-blue.localhost:8088/",
        "blue_url": "http://web-blue.localhost:8088/",
        "green_url": "http://web-green.localhost:8088/",
    }
    assert effects == [
        fx.SendCommand(
            "prober",
            "verify-colour",
            VerifyColour(
                deployment_id=DEP,
                colour=Colour.BLUE,
                url="http://localhost:8088/health",
                checks=3,
                host_header="web-blue.localhost",
                old_colour=Colour.GREEN,
                old_url="http://localhost:8088/health",
                old_host_header="web-green.localhost",
            ),
        )
    ]


def test_each_check_is_shown_once() -> None:
    s = story_at(Stage.VERIFY)
    check = ProbeCompleted(
        target=DEP,
        purpose=ProbePurpose.VERIFY,
        url="http://localhost:8088/health",
        ok=True,
        status_code=200,
        latency_ms=4.2,
        deployment_id=DEP,
        colour=Colour.BLUE,
        check=1,
    )
    events, _ = s.then(Observed(check, 10))
    assert events[0].message == "check 1/3: ok in 4 ms"
    assert s.when(Observed(check, 10)) == []


def test_failed_verification_keeps_the_old_colour_serving() -> None:
    s = story_at(Stage.VERIFY, previous=Colour.BLUE)
    events, effects = s.at(20).then(Observed(verdict(False, Colour.GREEN, Colour.BLUE), 10))
    assert events[0].error_code == "HEALTH_CHECK_FAILED"
    assert effects == [fx.ScaleToZero("apps", "web-green", "cleanup")]
    events, _ = s.then(EffectDone("cleanup"))
    assert events[-1].serving_colour is Colour.BLUE


# ------------------------------------------------------- switch, complete


def test_first_deployment_switches_and_completes_at_once() -> None:
    s = story_at(Stage.SWITCH)
    assert s.at(15).when(Tick()) == []
    events, effects = s.at(16).then(EffectDone("switch"))
    assert effects == [fx.ReleaseApp("apps", "web", DEP, s.state.status, Colour.BLUE)]
    assert types(events) == [
        "deploy.traffic_switched",
        "deploy.stage_succeeded",
        "deploy.stage_started",
        "deploy.stage_succeeded",
        "deploy.completed",
    ]
    assert events[0] == TrafficSwitched(service="web", from_colour=None, to_colour=Colour.BLUE)
    done = events[-1]
    assert isinstance(done, DeploymentCompleted)
    assert done.url == "http://web.localhost:8088/"
    assert done.total_duration_ms == 16_000
    assert done.event_count == len(s.records)
    assert set(done.stage_durations_ms) == {s.value for s in Stage}
    assert done.new_colour_stats == stats(Colour.BLUE)


def test_switch_scales_the_old_colour_down_after_the_delay() -> None:
    s = story_at(Stage.SWITCH, previous=Colour.BLUE)
    events, _ = s.at(16).then(EffectDone("switch"))
    assert events == [
        TrafficSwitched(service="web", from_colour=Colour.BLUE, to_colour=Colour.GREEN)
    ]
    assert next_wakeup(s.state, s.policy) == T0 + timedelta(seconds=21)
    assert s.at(20).when(Tick()) == []
    events, effects = s.at(21).then(Tick())
    assert events[0].message == "scaling down web-blue"
    assert effects == [fx.ScaleToZero("apps", "web-blue", "scale_down")]
    events, effects = s.at(22).then(EffectDone("scale_down"))
    assert events[0] == ColourScaledDown(colour=Colour.BLUE, deployment_name="web-blue")
    assert types(events)[-1] == "deploy.completed"
    assert effects == [fx.ReleaseApp("apps", "web", DEP, s.state.status, Colour.GREEN)]
    assert events[-1].old_colour_stats == stats(Colour.BLUE)


def test_a_failing_switch_leaves_the_old_colour_serving() -> None:
    s = story_at(Stage.SWITCH, previous=Colour.BLUE)
    s.at(16).then(EffectDone("switch", error="conflict", permanent=True))
    events, _ = s.then(EffectDone("cleanup"))
    assert isinstance(events[-1], DeploymentFailed)
    assert (events[-1].error_code, events[-1].serving_colour) == ("SWITCH_FAILED", Colour.BLUE)


# ------------------------------------------------------------ cancel, time


def test_cancel_mid_rollout_cleans_up_then_records_the_cancellation() -> None:
    s = story_at(Stage.ROLLOUT, previous=Colour.BLUE)
    events, effects = s.at(5).then(CancelDeployment(deployment_id=DEP, reason="user asked"))
    assert events == [
        StageFailed(
            stage=Stage.ROLLOUT, error_code="CANCELLED", message="user asked", duration_ms=3000
        )
    ]
    assert effects == [fx.ScaleToZero("apps", "web-green", "cleanup")]
    assert s.when(CancelDeployment(deployment_id=DEP, reason="again")) == []
    events, _ = s.then(EffectDone("cleanup"))
    assert events[-1] == DeploymentCancelled(
        stage=Stage.ROLLOUT, reason="user asked", serving_colour=Colour.BLUE, total_duration_ms=5000
    )


def test_cancel_during_artifact_needs_no_cleanup() -> None:
    events = story_at(Stage.ARTIFACT).at(1).when(CancelDeployment(deployment_id=DEP, reason="x"))
    assert types(events) == ["deploy.stage_failed", "deploy.cancelled"]


def test_cancel_after_the_switch_is_too_late() -> None:
    s = story_at(Stage.SWITCH, previous=Colour.BLUE)
    s.at(16).then(EffectDone("switch"))
    assert s.when(CancelDeployment(deployment_id=DEP, reason="x")) == []


def test_the_overall_deadline_fails_whatever_stage_runs() -> None:
    s = story_at(Stage.ROLLOUT)
    events = s.at(300).when(Tick())
    assert isinstance(events[0], StageFailed)
    assert (events[0].error_code, events[0].reason, events[0].timeout_s) == (
        "DEPLOYMENT_TIMEOUT",
        "OVERALL_TIMEOUT",
        300,
    )


def test_a_finished_deployment_ignores_everything() -> None:
    s = story_at(Stage.ARTIFACT)
    s.at(60).then(Tick())
    assert s.state.finished
    assert s.when(Observed(IMAGE, 100)) == [] and s.when(Tick()) == []


# ------------------------------------------------------------------ resume


def test_a_stale_apply_is_resumed_once_by_whoever_finds_it() -> None:
    s = story_at(Stage.APPLY)
    assert s.at(5).when(Resume()) == []  # its replica may still be applying
    events, effects = s.at(11).then(Resume())
    assert events[0].detail == {"effect": "apply", "attempt": 2}
    assert isinstance(effects[0], fx.Apply)
    assert s.when(Resume()) == []  # fresh again


def test_after_a_restart_requests_to_other_services_are_sent_again() -> None:
    s = story_at(Stage.ARTIFACT)
    assert s.when(Resume()) == []
    _, effects = s.at(1).then(Resume(requests=True))
    assert isinstance(effects[0], fx.SendCommand)


def test_deadlines_come_back_from_event_times_after_a_restart() -> None:
    s = story_at(Stage.ROLLOUT)
    rebuilt = Story(*[r.event for r in s.records])  # all recorded "now": times differ
    assert s.state.stage_deadline == rebuilt.state.stage_deadline == T0 + timedelta(seconds=62)
    assert next_wakeup(s.state, s.policy) == T0 + timedelta(seconds=62)
