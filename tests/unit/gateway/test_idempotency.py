"""Idempotency-Key (ADR 0020): the deployment a key names, and when two requests are one."""

from __future__ import annotations

import re

import msgspec
import pytest

from flightdeck.events.commands import StartDeployment
from flightdeck.gateway.domain.deploy import (
    check_idempotency_key,
    command_id_for,
    deployment_id_for,
    plan,
    request_digest,
)
from flightdeck.gateway.domain.errors import ApiError
from flightdeck.gateway.schemas import ID, DeployCreate

pytestmark = pytest.mark.unit


def test_a_key_names_one_deployment_per_tenant_whoever_computes_it() -> None:
    ids = {deployment_id_for("acme", "k1"), deployment_id_for("acme", "k2")}
    ids |= {deployment_id_for("globex", "k1"), deployment_id_for("acme", "k1")}
    assert len(ids) == 3
    assert deployment_id_for("ac", "mek1") != deployment_id_for("acme", "k1")
    for dep in ids:  # a deployment id as the API and the command take it
        assert re.search(ID, dep) and len(dep) == 32
        plan(
            DeployCreate(app_name="web", image_repository="web", image_tag="v1"),
            deployment_id=dep,
            tenant="acme",
        )


def decode(body: bytes) -> DeployCreate:
    return msgspec.json.decode(body, type=DeployCreate)


def test_the_same_request_spelt_otherwise_has_the_same_digest() -> None:
    one = decode(
        b'{"appName":"web","imageTag":"v1","imageRepository":"web","env":{"A":"1","B":"2"}}'
    )
    two = decode(
        b'{"env":{"B":"2","A":"1"},"imageRepository":"web","imageTag":"v1","appName":"web",'
        b' "replicas": 2}'
    )
    other = decode(b'{"appName":"web","imageTag":"v2","imageRepository":"web","env":{"A":"1"}}')
    assert request_digest(one) == request_digest(two) != request_digest(other)


def test_the_command_id_tells_bodies_under_one_key_apart() -> None:
    dep = deployment_id_for("acme", "k")
    assert command_id_for(dep, "d1") == command_id_for(dep, "d1") != command_id_for(dep, "d2")


@pytest.mark.parametrize("key", ["a", "release 1.2.3", "~" * 128, " spaced "])
def test_printable_ascii_keys_up_to_128_are_taken(key: str) -> None:
    check_idempotency_key(key)


@pytest.mark.parametrize("key", ["", "k" * 129, "tab\there", "new\nline", "é", "k\n"])
def test_other_keys_are_validation_errors(key: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_idempotency_key(key)
    assert refused.value.code.value == "VALIDATION_ERROR"


def test_the_digest_travels_with_the_command() -> None:
    req = DeployCreate(app_name="web", image_repository="web", image_tag="v1")
    command = plan(req, deployment_id="d", tenant="acme", digest=request_digest(req))
    assert isinstance(command, StartDeployment) and command.request_digest == request_digest(req)
