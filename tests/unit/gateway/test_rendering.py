"""SSE framing, Panda payloads and deploy planning: all pure (log filters: test_logfilter.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from flightdeck.events import Recorded
from flightdeck.events.commands import deployment_requested
from flightdeck.events.deployments import (
    Colour,
    DeploymentCompleted,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
)
from flightdeck.gateway.domain import pipeline, sse
from flightdeck.gateway.domain.deploy import plan
from flightdeck.gateway.domain.errors import ApiError
from flightdeck.gateway.schemas import DeployCreate
from tests.support.recorded import recorded as recorded_at

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def recorded(event: Any, position: int = 7, subject: str = "fd.evt.deploy.d1") -> Recorded[Any]:
    return recorded_at(subject, event, position=position, at=T0, id="e")


def test_frame_and_resume_point() -> None:
    assert sse.frame(7, "stage", b'{"a":1}') == b'id: 7\nevent: stage\ndata: {"a":1}\n\n'
    assert sse.retry(3000) == b"retry: 3000\n\n"
    assert sse.parse_last_event_id("5", "9") == 5
    assert sse.parse_last_event_id(None, "9") == 9
    assert sse.parse_last_event_id(None, None) is None
    with pytest.raises(ValueError, match="not a position"):
        sse.parse_last_event_id("abc", None)


def test_stage_done_and_error_payloads() -> None:
    progressed = pipeline.render(recorded(StageProgressed(stage=Stage.ROLLOUT, message="up")))
    assert progressed is not None and progressed.event == "stage" and not progressed.terminal
    body = msgspec.json.decode(progressed.data)
    assert body == {
        "deploymentId": "d1",
        "stage": "rollout",
        "status": "RUNNING",
        "message": "up",
        "timestamp": "2026-11-25T12:00:00Z",
        "detail": {},
        "type": "stage",
        "details": {"stage": 3},
    }
    assert progressed.sse.startswith(b"id: 7\nevent: stage\n")
    done = pipeline.render(
        recorded(
            DeploymentCompleted(
                colour=Colour.BLUE, url=None, stage_durations_ms={"apply": 3}, total_duration_ms=9
            )
        )
    )
    assert done is not None and done.event == "done" and done.terminal
    failed = pipeline.render(
        recorded(
            DeploymentFailed(
                stage=Stage.ROLLOUT,
                error_code="IMAGE_PULL_BACKOFF",
                message="no image",
                rolled_back=True,
                serving_colour=Colour.BLUE,
                total_duration_ms=5,
            )
        )
    )
    assert failed is not None and failed.event == "error" and failed.terminal
    assert msgspec.json.decode(failed.data)["errorCode"] == "IMAGE_PULL_BACKOFF"


def body(event: Any) -> dict[str, Any]:
    rendered = pipeline.render(recorded(event))
    assert rendered is not None
    return dict(msgspec.json.decode(rendered.data))


def test_every_payload_carries_panda_s_type_message_and_stage_number() -> None:
    requested = body(
        deployment_requested(
            plan(DeployCreate(app_name="web", image_tag="v1"), deployment_id="d1", tenant="acme")
        )
    )
    assert (requested["type"], requested["details"]) == ("stage", {"stage": 0})
    started = body(StageStarted(stage=Stage.ARTIFACT, deadline=T0))
    assert (started["type"], started["message"], started["details"]) == (
        "stage",
        "artifact started",
        {"stage": 1},
    )
    done = body(
        DeploymentCompleted(
            colour=Colour.GREEN, url=None, stage_durations_ms={}, total_duration_ms=16_700
        )
    )
    assert (done["type"], done["details"]) == ("done", {"stage": 7})
    assert done["message"] == "deployed in 16.7 s; green serves"


def test_a_timeout_on_the_stream_is_deployment_timeout_with_stage_and_timeout() -> None:
    timeout = {"reason": "VERIFY_TIMEOUT", "timeout_s": 600.0}
    stage_failed = body(
        StageFailed(
            stage=Stage.VERIFY,
            error_code="DEPLOYMENT_TIMEOUT",
            message="late",
            duration_ms=600_000,
            **timeout,
        )
    )
    assert stage_failed["detail"] == {
        "errorCode": "DEPLOYMENT_TIMEOUT",
        "durationMs": 600_000,
        "errorReason": "VERIFY_TIMEOUT",
        "timeoutSeconds": 600.0,
    }
    error = body(
        DeploymentFailed(
            stage=Stage.VERIFY,
            error_code="DEPLOYMENT_TIMEOUT",
            message="late",
            rolled_back=True,
            serving_colour=None,
            total_duration_ms=601_000,
            **timeout,
        )
    )
    assert (error["type"], error["errorCode"], error["stage"]) == (
        "error",
        "DEPLOYMENT_TIMEOUT",
        "verify",
    )
    assert (error["errorReason"], error["timeoutSeconds"], error["durationSeconds"]) == (
        "VERIFY_TIMEOUT",
        600.0,
        601.0,
    )
    assert error["details"] == {"stage": 5, "status": 408}


def test_plan_from_image_and_from_branch() -> None:
    image = DeployCreate(app_name="web", image_repository="web", image_tag="v2")
    command = plan(image, deployment_id="d", tenant="acme", aws_account=("123", "eu-west-1"))
    event = deployment_requested(command)
    assert event.image == "123.dkr.ecr.eu-west-1.amazonaws.com/web:v2"
    branch = DeployCreate(app_name="web", github_connection_id="g", branch="main")
    event = deployment_requested(plan(branch, deployment_id="d", tenant="acme", commit_sha="abc"))
    assert (event.tag, event.branch, event.image) == ("abc", "main", "web:abc")
    ghcr = DeployCreate(app_name="web", image_repository="ghcr.io/acme/web", image_tag="v2")
    command = plan(ghcr, deployment_id="d", tenant="acme", aws_account=("123", "eu-west-1"))
    assert deployment_requested(command).image == "ghcr.io/acme/web:v2"  # names its registry
    with pytest.raises(ApiError):
        plan(DeployCreate(app_name="web"), deployment_id="d", tenant="acme")
