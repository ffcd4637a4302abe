"""The deploy command: its rules on decode, and the one builder of ``DeploymentRequested``."""

from __future__ import annotations

import msgspec
import pytest

from flightdeck.events import Cause, Codec, EventDecodeError, streams, subjects
from flightdeck.events.commands import (
    StartDeployment,
    deployment_requested,
    image_reference,
)
from flightdeck.events.deployments import Colour, DeploymentRequested, colour_name

pytestmark = pytest.mark.unit

START = StartDeployment(
    deployment_id="d-1",
    tenant="acme",
    app="web",
    namespace="apps",
    repository="web",
    tag="v1",
    registry="123.dkr.ecr.eu-west-1.amazonaws.com",
    env={"MODE": "prod"},
    request_digest="abc",
)


def test_the_request_is_the_command_with_its_image_resolved() -> None:
    request = deployment_requested(START)
    assert isinstance(request, DeploymentRequested)
    assert request.image == "123.dkr.ecr.eu-west-1.amazonaws.com/web:v1"
    assert (request.env, request.request_digest) == ({"MODE": "prod"}, "abc")
    assert request == deployment_requested(START)  # pure: a retry builds an equal event
    shared = set(StartDeployment.__struct_fields__) & set(DeploymentRequested.__struct_fields__)
    for name in shared:
        assert getattr(request, name) == getattr(START, name), name
    assert set(DeploymentRequested.__struct_fields__) - shared == {"image"}


@pytest.mark.parametrize(
    ("repository", "registry", "image"),
    [
        ("web", None, "web:v1"),
        ("team/web", "r.example", "r.example/team/web:v1"),
        ("ghcr.io/acme/web", "r.example", "ghcr.io/acme/web:v1"),
        ("localhost:5000/web", "r.example", "localhost:5000/web:v1"),
        ("localhost/web", "r.example", "localhost/web:v1"),
    ],
)
def test_a_repository_naming_its_own_registry_keeps_it(
    repository: str, registry: str | None, image: str
) -> None:
    assert image_reference(repository, "v1", registry) == image


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deployment_id", "a.b"),
        ("deployment_id", "x" * 65),
        ("app", "Web"),
        ("app", "w" * 54),
        ("namespace", "apps\n"),
        ("tenant", ""),
        ("replicas", 0),
        ("stage_timeout_s", 0),
        ("health_path", "health"),
    ],
)
def test_a_command_breaking_its_rules_does_not_decode(field: str, value: object) -> None:
    codec = Codec("/flightdeck/tests")
    sent = codec.encode(subjects.START_DEPLOYMENT, START, Cause.root("user:ada"))
    fine = codec.decode(streams.COMMANDS, sent.subject, sent.payload, sent.headers, 1)
    assert fine.event == START
    broken = {**msgspec.json.decode(sent.payload), field: value}
    with pytest.raises(EventDecodeError):  # the consumer dead-letters it at once
        codec.decode(streams.COMMANDS, sent.subject, msgspec.json.encode(broken), sent.headers, 2)


def test_the_colour_naming_rule() -> None:
    assert colour_name("web", Colour.GREEN) == "web-green" == colour_name("web", "green")
