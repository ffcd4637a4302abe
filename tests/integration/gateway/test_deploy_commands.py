"""POST /api/v1/deploy on the command path (ADR 0020): the 202 names a deployment that can be
read at once, and a retried Idempotency-Key answers the same deployment, from any gateway."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from httpx_sse import aconnect_sse

from flightdeck.events import new_id, subjects
from flightdeck.events.commands import StartDeployment
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.gateway.config import GatewayConfig
from flightdeck.runtime.sealing import SecretsSettings
from tests.integration.gateway.conftest import Gateway, create_token
from tests.integration.gateway.instances import another_gateway

pytestmark = pytest.mark.integration

DEPLOY = {"appName": "keyed", "imageRepository": "keyed", "imageTag": "v1", "replicas": 1}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def requests_of(gateway: Gateway, dep: str) -> list[DeploymentRequested]:
    stored = await gateway.store.read(subjects.deployment(dep))
    return [r.event for r in stored if isinstance(r.event, DeploymentRequested)]


async def commands_for(gateway: Gateway, dep: str) -> int:
    sent = await gateway.store.read(subjects.START_DEPLOYMENT)
    return sum(isinstance(r.event, StartDeployment) and r.event.deployment_id == dep for r in sent)


async def test_the_deployment_can_be_read_right_after_the_202(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_projected_yet(tenant: str, deployment_id: str) -> None:
        return None

    async def projector_behind(stream: str) -> int:
        return 0

    # the read model has not seen it, nor will within the bound (a projector far behind):
    # the result comes from the deployment's own events (ADR 0024)
    monkeypatch.setattr(gateway.built.read_model, "deployment", not_projected_yet)
    monkeypatch.setattr(gateway.built.read_model, "projected_upto", projector_behind)
    async with gateway.client("acme-deploy") as client:
        accepted = await client.post("/api/v1/deploy", json=DEPLOY)
        assert accepted.status_code == 202, accepted.text
        dep = accepted.json()["data"]["deploymentId"]

        result = await client.get(f"/api/v1/deploy/{dep}/result")
        async with aconnect_sse(client, "GET", f"/api/v1/deploy/{dep}/events") as source:
            assert source.response.status_code == 200
            first = await anext(e async for e in source.aiter_sse() if e.data)
    async with gateway.client("globex-admin") as other:
        foreign = await other.get(f"/api/v1/deploy/{dep}/result")

    assert result.status_code == 200, result.text
    data = result.json()["data"]
    assert (data["deploymentId"], data["status"], data["stages"]) == (dep, "PENDING", [])
    assert (data["appName"], data["image"], data["eventCount"]) == ("keyed", "keyed:v1", 1)
    assert msgspec.json.decode(first.data)["stage"] == "requested"
    assert foreign.status_code == 400 and foreign.json()["errorCode"] == "DEPLOYMENT_NOT_FOUND"


async def test_a_retried_key_answers_the_same_deployment_even_from_another_gateway(
    gateway: Gateway, tmp_path: Path
) -> None:
    key = f"release {new_id()}"
    async with gateway.client("acme-deploy") as client:
        first = await client.post("/api/v1/deploy", json=DEPLOY, headers=keyed(key))
        reordered = dict(reversed(list(DEPLOY.items())))  # the same request, spelt otherwise
        again = await client.post("/api/v1/deploy", json=reordered, headers=keyed(key))
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    dep = first.json()["data"]["deploymentId"]
    assert again.json()["data"] == first.json()["data"]

    # a gateway that never saw the first request, as one restarted since
    secrets = SecretsSettings(key=base64.b64encode(os.urandom(32)).decode())
    config = GatewayConfig(gc_freeze=False)
    async with another_gateway(gateway.store, tmp_path / "other.db", config, secrets) as (
        url,
        built,
    ):
        token = await create_token(gateway.store, built, "acme", ["deploy"])
        headers = {"Authorization": f"Bearer {token}", **keyed(key)}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            later = await client.post("/api/v1/deploy", json=DEPLOY)

    assert later.status_code == 202, later.text
    assert later.json()["data"]["deploymentId"] == dep
    assert len(await requests_of(gateway, dep)) == 1
    assert await commands_for(gateway, dep) == 1  # the retries found the request recorded


async def test_the_same_key_with_another_body_is_a_conflict(gateway: Gateway) -> None:
    key = f"conflict-{new_id()}"
    async with gateway.client("acme-deploy") as client:
        first = await client.post("/api/v1/deploy", json=DEPLOY, headers=keyed(key))
        changed = await client.post(
            "/api/v1/deploy", json={**DEPLOY, "imageTag": "v2"}, headers=keyed(key)
        )
    assert first.status_code == 202, first.text
    assert changed.status_code == 409, changed.text
    body: dict[str, Any] = changed.json()
    assert body["errorCode"] == "CONFLICT" and "Idempotency-Key" in body["message"]
    (request,) = await requests_of(gateway, first.json()["data"]["deploymentId"])
    assert request.tag == "v1"


async def test_keys_belong_to_a_tenant(gateway: Gateway) -> None:
    key = f"shared-{new_id()}"
    async with gateway.client("acme-deploy") as acme, gateway.client("globex-admin") as globex:
        mine = await acme.post("/api/v1/deploy", json=DEPLOY, headers=keyed(key))
        theirs = await globex.post(
            "/api/v1/deploy", json={**DEPLOY, "namespace": "globex"}, headers=keyed(key)
        )
    assert mine.status_code == theirs.status_code == 202, (mine.text, theirs.text)
    assert mine.json()["data"]["deploymentId"] != theirs.json()["data"]["deploymentId"]


@pytest.mark.parametrize("key", ["", "k" * 129])
async def test_a_key_outside_its_grammar_is_a_validation_error(gateway: Gateway, key: str) -> None:
    async with gateway.client("acme-deploy") as client:
        response = await client.post("/api/v1/deploy", json=DEPLOY, headers=keyed(key))
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "VALIDATION_ERROR"
