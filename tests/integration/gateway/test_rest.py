"""REST: deploy, results, lists, connections, auth, tenants, and every error code."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
import structlog

from flightdeck.events import subjects
from flightdeck.events.audit import AwsConnectionCreated
from flightdeck.events.deployments import Stage, StageStarted
from flightdeck.gateway.adapters.aws import Sts
from flightdeck.gateway.domain.auth import Principal, Scope, sign_ticket
from tests.integration.gateway.conftest import (
    GITHUB_SHA,
    GITHUB_TOKEN,
    Gateway,
    new_deployment,
)
from tests.support.samples import progressed
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

IMAGE_DEPLOY = {"appName": "web", "imageRepository": "web", "imageTag": "v1", "replicas": 1}


ERROR_FIELDS = {"timestamp", "status", "error", "message", "errorCode", "path"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == (ERROR_FIELDS | {"requestId"} if status == 500 else ERROR_FIELDS)
    assert body["status"] == status
    assert body["errorCode"] == code
    return body


async def result_when_projected(
    client: httpx.AsyncClient, dep: str, events: int = 1
) -> dict[str, Any]:
    """The result once the read model holds ``events`` of the deployment's events (before,
    a deployment just requested answers from its request alone)."""

    async def found() -> dict[str, Any] | None:
        response = await client.get(f"/api/v1/deploy/{dep}/result")
        data = response.json()["data"] if response.status_code == 200 else None
        return data if data is not None and data["eventCount"] >= events else None

    result: dict[str, Any] = await eventually(found)
    return result


async def test_deploy_from_an_image_returns_an_id_at_once(gateway: Gateway) -> None:
    async with gateway.client("acme-deploy") as client:
        response = await client.post("/api/v1/deploy", json=IMAGE_DEPLOY)
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["code"] == 202
        dep = body["data"]["deploymentId"]
        assert body["data"]["eventsUrl"] == f"/api/v1/deploy/{dep}/events"
        result = await result_when_projected(client, dep)
    assert result["appName"] == "web"
    assert result["image"] == "web:v1"
    assert (result["status"], result["phase"]) in (("PENDING",) * 2, ("RUNNING", "IN_PROGRESS"))
    stored = await gateway.store.read(subjects.deployment(dep))
    assert stored[0].event.tenant == "acme"


async def test_result_and_list_come_from_the_read_model(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, progressed(1), app="listed")
    async with gateway.client("acme-read") as client:
        result = await result_when_projected(client, dep, 2)
        assert result["deploymentId"] == dep
        response = await client.get("/api/v1/deployments", params={"app": "listed", "limit": 5})
    page = response.json()["data"]
    assert page["total"] >= 1
    assert dep in [item["deploymentId"] for item in page["items"]]
    assert all(item["appName"] == "listed" for item in page["items"])


async def test_unknown_and_foreign_ids_answer_exactly_alike(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, progressed(1))
    async with gateway.client("acme-read") as acme:
        await result_when_projected(acme, dep, 2)
    async with gateway.client("globex-admin") as globex:
        for suffix in ("result", "events"):
            foreign = await globex.get(f"/api/v1/deploy/{dep}/{suffix}")
            unknown = await globex.get(f"/api/v1/deploy/nope{dep[4:]}/{suffix}")
            a = assert_error(foreign, 400, "DEPLOYMENT_NOT_FOUND")
            b = assert_error(unknown, 400, "DEPLOYMENT_NOT_FOUND")
            assert a["message"].replace(dep, "X") == b["message"].replace(f"nope{dep[4:]}", "X")
        listed = (await globex.get("/api/v1/deployments")).json()["data"]["items"]
        assert dep not in [item["deploymentId"] for item in listed]


async def test_auth_is_required_and_scopes_are_enforced(gateway: Gateway) -> None:
    async with gateway.client(None) as anonymous:
        assert_error(await anonymous.get("/api/v1/deployments"), 401, "UNAUTHORIZED")
        bad = {"Authorization": "Bearer fdk_not_a_key"}
        assert_error(await anonymous.get("/api/v1/deployments", headers=bad), 401, "UNAUTHORIZED")
    async with gateway.client("acme-read") as reader:
        assert_error(await reader.post("/api/v1/deploy", json=IMAGE_DEPLOY), 403, "FORBIDDEN")
        aws = {"accessKeyId": "AKIAEXAMPLE1", "secretAccessKey": "s"}
        assert_error(await reader.post("/api/v1/connect/aws", json=aws), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "body",
    [
        {"appName": "Bad Name!", "imageRepository": "web", "imageTag": "v1"},
        {"appName": "web"},
        {"appName": "web", "imageRepository": "web", "imageTag": "v1", "githubConnectionId": "g"},
        {"appName": "web", "imageRepository": "web", "imageTag": "v1", "replicas": 0},
        {"appName": "web", "imageRepository": "web", "imageTag": "v1", "surprise": 1},
    ],
)
async def test_malformed_deploys_are_validation_errors(gateway: Gateway, body: Any) -> None:
    async with gateway.client("acme-deploy") as client:
        assert_error(await client.post("/api/v1/deploy", json=body), 400, "VALIDATION_ERROR")
        raw = await client.post(
            "/api/v1/deploy", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_error(raw, 400, "VALIDATION_ERROR")


async def test_unknown_connections_are_refused(gateway: Gateway) -> None:
    async with gateway.client("acme-deploy") as client:
        aws = {**IMAGE_DEPLOY, "awsConnectionId": "missing"}
        assert_error(await client.post("/api/v1/deploy", json=aws), 400, "CONNECTION_NOT_FOUND")
        gh = {"appName": "web", "githubConnectionId": "missing", "branch": "main"}
        assert_error(await client.post("/api/v1/deploy", json=gh), 400, "CONNECTION_NOT_FOUND")


async def test_aws_connection_is_validated_and_sealed(gateway: Gateway) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"
    body = {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": secret, "region": "eu-west-1"}
    async with gateway.client("acme-admin") as client:
        response = await client.post("/api/v1/connect/aws", json=body)
        assert response.status_code == 201, response.text
        assert secret not in response.text
        data = response.json()["data"]
        connection_id = data["awsConnectionId"]
        assert data["accountId"]
        stored = await gateway.store.read(subjects.connections("acme"))
        created = [r.event for r in stored if isinstance(r.event, AwsConnectionCreated)]
        sealed = next(e for e in created if e.connection_id == connection_id)
        assert secret not in msgspec.json.encode(sealed).decode()

        async def listed() -> bool:
            rows = (await client.get("/api/v1/connections")).json()["data"]
            return connection_id in [r["connectionId"] for r in rows]

        await eventually(listed)
        deploy = {**IMAGE_DEPLOY, "awsConnectionId": connection_id}
        accepted = await client.post("/api/v1/deploy", json=deploy)
        assert accepted.status_code == 202, accepted.text
        image = accepted.json()["data"]["image"]
    assert image == f"{data['accountId']}.dkr.ecr.eu-west-1.amazonaws.com/web:v1"
    async with gateway.client("globex-admin") as other:  # in its own namespace
        refused = await other.post("/api/v1/deploy", json={**deploy, "namespace": "globex"})
        assert_error(refused, 400, "CONNECTION_NOT_FOUND")


async def test_aws_unreachable_is_an_upstream_error(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = Sts("http://127.0.0.1:9", 2.0)
    monkeypatch.setattr(gateway.built.dependencies.connecting.sts, "identify", unreachable.identify)
    async with gateway.client("acme-admin") as client:
        body = {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "x"}
        response = await client.post("/api/v1/connect/aws", json=body)
    assert_error(response, 502, "UPSTREAM_UNAVAILABLE")


async def test_github_connection_and_deploy_from_a_branch(gateway: Gateway) -> None:
    body = {"owner": "acme", "repo": "web", "branch": "main", "token": GITHUB_TOKEN}
    async with gateway.client("acme-admin") as client:
        response = await client.post("/api/v1/connect/github", json=body)
        assert response.status_code == 201, response.text
        assert GITHUB_TOKEN not in response.text
        data = response.json()["data"]
        assert data["commitSha"] == GITHUB_SHA
        connection_id = data["githubConnectionId"]

        async def deployed() -> httpx.Response | None:
            deploy = {"appName": "web", "githubConnectionId": connection_id, "branch": "main"}
            answer = await client.post("/api/v1/deploy", json=deploy)
            return answer if answer.status_code == 202 else None

        accepted = await eventually(deployed)
        assert accepted.json()["data"]["image"] == f"web:{GITHUB_SHA}"
        bad = [
            ({**body, "token": "wrong"}, "GITHUB_CREDENTIALS_INVALID"),
            ({**body, "repo": "nothing"}, "GITHUB_REPOSITORY_NOT_FOUND"),
            ({**body, "branch": "nope"}, "GITHUB_BRANCH_NOT_FOUND"),
        ]
        for wrong, code in bad:
            assert_error(await client.post("/api/v1/connect/github", json=wrong), 400, code)


async def test_stream_tickets(gateway: Gateway) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(1))
    async with gateway.client("acme-read") as client:
        issued = await client.post("/api/v1/stream-tickets")
        assert issued.status_code == 201, issued.text
        ticket = issued.json()["data"]["ticket"]
    key = gateway.built.dependencies.auth.ticket_key
    who = Principal(tenant="acme", token_id="t", scopes=frozenset({Scope.READ}))
    expired = sign_ticket(key, who, int(time.time()) - 1)
    forged = sign_ticket(b"k" * 32, who, int(time.time()) + 60)
    async with gateway.client(None) as anonymous:
        path = f"/api/v1/deploy/{dep}/events"
        async with anonymous.stream("GET", path, params={"ticket": ticket}) as ok:
            assert ok.status_code == 200
            async for line in ok.aiter_lines():
                if line.startswith("id: ") and int(line[4:]) == positions[-1]:
                    break
        for bad in (expired, forged, gateway.tokens["acme-admin"], "fdt_garbage"):
            answer = await anonymous.get(path, params={"ticket": bad})
            assert_error(answer, 401, "UNAUTHORIZED")
        rest = await anonymous.get(f"/api/v1/deploy/{dep}/result", params={"ticket": ticket})
        assert_error(rest, 401, "UNAUTHORIZED")


async def test_bad_positions_routes_and_methods(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store)
    async with gateway.client("acme-read") as client:
        bad = await client.get(f"/api/v1/deploy/{dep}/events", headers={"Last-Event-ID": "x"})
        assert_error(bad, 400, "VALIDATION_ERROR")
        assert_error(await client.get("/api/v1/nothing"), 404, "NOT_FOUND")
        assert_error(await client.delete("/api/v1/deployments"), 405, "METHOD_NOT_ALLOWED")


async def test_unexpected_failures_are_internal_errors_with_a_request_id(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-in-a-local-variable"

    async def broken(*args: Any, **kwargs: Any) -> None:
        held = secret  # a local the traceback must not print
        raise RuntimeError(f"database on fire {len(held)}")

    monkeypatch.setattr(gateway.built.read_model, "deployment", broken)
    with structlog.testing.capture_logs() as logs:
        async with gateway.client("acme-read") as client:
            response = await client.get("/api/v1/deploy/x/result")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "fire" not in body["message"]
    request_id = body["requestId"]
    assert len(request_id) == 32 and request_id in body["message"]
    logged = [e for e in logs if e.get("request_id") == request_id]
    assert len(logged) == 1, logs
    assert logged[0]["path"] == "/api/v1/deploy/x/result"
    text = logged[0]["exception"]
    assert "Traceback" in text and "database on fire" in text
    assert secret not in str(logged[0])


async def test_health_metrics_and_schema(gateway: Gateway) -> None:
    async with gateway.client(None) as client:
        health = await client.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["nats"] and health.json()["database"]
        metrics = await client.get("/metrics")
        assert b"flightdeck_gateway_deliveries_total" in metrics.content
        schema = await client.get("/schema/openapi.json")
        assert schema.status_code == 200
        operations = {
            op["operationId"] for path in schema.json()["paths"].values() for op in path.values()
        }
        assert {"createDeployment", "getDeploymentResult", "streamDeploymentEvents"} <= operations
        by_id = {
            op["operationId"]: op for p in schema.json()["paths"].values() for op in p.values()
        }
        filters = {"levels", "sources", "keywords", "include", "exclude", "pods", "containers"}
        for op in ("streamAppLogs", "getAppLogs"):
            documented = {p["name"] for p in by_id[op]["parameters"] if p["in"] == "query"}
            assert filters | {"since", "until", "namespace"} <= documented, op


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
TIME_KEYS = ("At", "timestamp", "time", "since", "until")


def times_in(value: Any, key: str = "") -> list[str]:
    """Every time-valued string in a JSON document (by its key's name)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in times_in(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in times_in(v, key)]
    if isinstance(value, str) and key.endswith(TIME_KEYS):
        return [value]
    return []


async def test_every_time_the_api_sends_is_rfc3339_with_an_offset(gateway: Gateway) -> None:
    started = StageStarted(stage=Stage.ARTIFACT, deadline=datetime(2026, 12, 7, tzinfo=UTC))
    dep, positions = await new_deployment(gateway.store, started, progressed(1), app="timed")
    documents: list[Any] = []
    async with gateway.client("acme-admin") as client:
        result = await result_when_projected(client, dep, len(positions))
        assert result["stages"] and result["stages"][0]["startedAt"]
        documents.append(result)
        documents.append((await client.get("/api/v1/deployments", params={"app": "timed"})).json())
        documents.append((await client.post("/api/v1/stream-tickets")).json())
        documents.append((await client.get("/api/v1/deploy/nope/result")).json())
        aws = {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "s"}
        assert (await client.post("/api/v1/connect/aws", json=aws)).status_code == 201
        documents.append(await eventually(lambda: _connections(client)))
        async with client.stream("GET", f"/api/v1/deploy/{dep}/events") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    documents.append(json.loads(line[6:]))
                if line == f"id: {positions[-1]}":
                    break
    found = [t for document in documents for t in times_in(document)]
    assert len(found) >= 9, documents  # results, stages, list, ticket, error, connection, SSE
    assert [t for t in found if not RFC3339.fullmatch(t)] == []


async def _connections(client: httpx.AsyncClient) -> Any:
    listed = (await client.get("/api/v1/connections")).json()
    return listed if listed["data"] else None
