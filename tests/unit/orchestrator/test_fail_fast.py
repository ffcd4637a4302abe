"""Causes known to be final fail their stage at once, with the code the observer reported."""

from __future__ import annotations

import pytest

from flightdeck.events.artifacts import ImageMissing
from flightdeck.events.deployments import (
    Colour,
    ColourStats,
    DeploymentFailed,
    Stage,
    StageFailed,
)
from flightdeck.events.probes import VerificationCompleted
from flightdeck.orchestrator.domain.inputs import Observed
from tests.unit.orchestrator.story import types
from tests.unit.orchestrator.test_decide import story_at

pytestmark = pytest.mark.unit


def missing(code: str | None) -> ImageMissing:
    return ImageMissing(
        repository="web", tag="v2", waited_s=0.2, reason="repository web not found", code=code
    )


def test_a_missing_repository_fails_artifact_with_its_code_long_before_the_deadline() -> None:
    events = story_at(Stage.ARTIFACT).at(1).when(Observed(missing("REPOSITORY_NOT_FOUND"), 100))
    assert types(events) == ["deploy.stage_failed", "deploy.failed"]
    failed = events[-1]
    assert isinstance(failed, DeploymentFailed)
    assert (failed.stage, failed.error_code) == (Stage.ARTIFACT, "REPOSITORY_NOT_FOUND")
    assert "repository web not found" in failed.message


def test_an_image_missing_without_a_code_is_the_artifact_timeout() -> None:
    events = story_at(Stage.ARTIFACT).at(60).when(Observed(missing(None), 100))
    assert isinstance(events[-1], DeploymentFailed)
    assert (events[-1].error_code, events[-1].reason) == ("DEPLOYMENT_TIMEOUT", "ARTIFACT_TIMEOUT")


def test_an_unknown_code_from_the_registry_is_not_taken_at_its_word() -> None:
    events = story_at(Stage.ARTIFACT).at(60).when(Observed(missing("ANYTHING_GOES"), 100))
    assert isinstance(events[-1], DeploymentFailed)
    assert (events[-1].error_code, events[-1].reason) == ("DEPLOYMENT_TIMEOUT", "ARTIFACT_TIMEOUT")


def unusable(code: str | None) -> VerificationCompleted:
    return VerificationCompleted(
        deployment_id="dep-1",
        passed=False,
        new=ColourStats(
            colour=Colour.BLUE,
            checks=0,
            failures=0,
            latency_p50_ms=None,
            latency_p99_ms=None,
            error_rate=0.0,
        ),
        old=None,
        reason="the health URL has a control character",
        error_code=code,
    )


def test_a_verification_that_could_not_run_fails_verify_with_its_code() -> None:
    events = story_at(Stage.VERIFY).at(12).when(Observed(unusable("VERIFY_TARGET_INVALID"), 10))
    failed = events[0]
    assert isinstance(failed, StageFailed)
    assert (failed.stage, failed.error_code) == (Stage.VERIFY, "VERIFY_TARGET_INVALID")
    assert failed.message == "the health URL has a control character"


def test_a_verification_with_an_unknown_code_is_a_failed_health_check() -> None:
    events = story_at(Stage.VERIFY).at(12).when(Observed(unusable("ANYTHING_GOES"), 10))
    assert isinstance(events[0], StageFailed)
    assert events[0].error_code == "HEALTH_CHECK_FAILED"
