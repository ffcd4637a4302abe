"""Requests that can never succeed are answered at once, with a code, not left to time out.

The prober refuses a health URL or Host it cannot send (CR/LF, control
characters) with a failed verification; the ecr-poller reports a repository
that does not exist instead of polling it until the stage deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flightdeck.ecr_poller.adapters.ecr import Ecr
from flightdeck.ecr_poller.service_layer.polling import Poller
from flightdeck.events import Recorded, new_id, subjects
from flightdeck.events.artifacts import ImageMissing
from flightdeck.events.commands import VerifyColour, WatchImage
from flightdeck.events.deployments import Colour
from flightdeck.events.probes import VerificationCompleted
from flightdeck.eventstore import EventStore
from flightdeck.prober.adapters.http import HttpProber
from flightdeck.prober.service_layer.verification import Verifier
from flightdeck.runtime.aws import AwsSettings
from tests.support.recorded import recorded as recorded_at
from tests.support.serving import moto_server

pytestmark = pytest.mark.integration


def recorded(event: Any, subject: str) -> Recorded[Any]:
    return recorded_at(subject, event, at=datetime.now(UTC), actor="user:tests")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:9/he\r\nalth", None),
        ("http://127.0.0.1:9/health\x00", None),
        ("http://127.0.0.1:9/healthz", "web-green.localhost\r\nX-Evil: 1"),
        ("/healthz", None),
    ],
    ids=["crlf-path", "nul-path", "crlf-host", "no-endpoint"],
)
async def test_a_target_the_prober_cannot_use_fails_the_verification_with_a_code(
    store: EventStore, url: str, host: str | None
) -> None:
    deployment = new_id()
    command = VerifyColour(
        deployment_id=deployment, colour=Colour.GREEN, url=url, host_header=host, interval_s=0
    )
    http = HttpProber()
    try:
        await asyncio.wait_for(
            Verifier(store, http).verify(recorded(command, "fd.cmd.prober.verify-colour")), 20
        )
    finally:
        await http.close()

    events = [r.event for r in await store.read(subjects.probe(deployment))]
    assert len(events) == 1, events  # no check was attempted
    verdict = events[0]
    assert isinstance(verdict, VerificationCompleted)
    assert (verdict.passed, verdict.error_code) == (False, "VERIFY_TARGET_INVALID")
    assert verdict.reason and "\r" not in verdict.reason


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as url:
        yield url


async def test_a_repository_that_does_not_exist_fails_the_watch_at_once(
    store: EventStore, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ecr = Ecr(AwsSettings(endpoint_url=moto, region="us-east-1"))
    poller = Poller(
        store, ecr, lambda: datetime.now(UTC), interval_s=0.2, missing_repository_grace_s=0.0
    )
    repository, deployment = f"nowhere-{new_id()[:8].lower()}", new_id()
    watch = WatchImage(
        repository=repository,
        tag="v1",
        deadline=datetime.now(UTC) + timedelta(hours=1),
        deployment_id=deployment,
    )
    try:
        await asyncio.wait_for(poller.watch(recorded(watch, "fd.cmd.ecr-poller.watch-image")), 20)
    finally:
        await poller.close()
        await ecr.close()

    missing = (await store.read(subjects.image(repository, "v1")))[-1].event
    assert isinstance(missing, ImageMissing)
    assert (missing.code, missing.deployment_ids) == ("REPOSITORY_NOT_FOUND", [deployment])
    assert repository in missing.reason
