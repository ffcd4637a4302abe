"""The gateway's edge, input side (issue 12, finding 7; ADR 0016): what a client sends is
refused at the door with a 4xx and a code, never accepted, never a 500, never a stall."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from tests.integration.gateway.conftest import Gateway, new_deployment
from tests.integration.gateway.test_rest import IMAGE_DEPLOY, assert_error

pytestmark = pytest.mark.integration

JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("imageRepository", "web\x00"),
        ("imageRepository", "../../etc"),
        ("imageRepository", "web; rm -rf /"),
        ("imageTag", "v1; rm -rf /"),
        ("imageTag", "../../etc"),
        ("imageTag", "v1\x00"),
        ("healthPath", "/health\r\nX-Injected: 1"),
        ("healthPath", "/../admin"),
        ("healthPath", "//elsewhere.example.com/health"),
        ("env", {"NOT-AN-IDENTIFIER": "x"}),
        ("env", {f"V{i}": "x" for i in range(101)}),
        ("env", {"A": "x" * 20_000, "B": "x" * 20_000}),
        ("appName", "web\n"),
    ],
)
async def test_bad_fields_are_refused_naming_the_field(
    gateway: Gateway, field: str, value: Any
) -> None:
    async with gateway.client("acme-deploy") as client:
        response = await client.post("/api/v1/deploy", json={**IMAGE_DEPLOY, field: value})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["message"], body["message"]


async def test_references_of_the_oci_grammar_are_accepted(gateway: Gateway) -> None:
    deploy = {
        **IMAGE_DEPLOY,
        "imageRepository": "registry.example.com:5000/acme/web-app",
        "imageTag": "v1.2.3_rc-1",
        "healthPath": "/ready?deep=1",
        "env": {"MODE": "prod", "_X1": ""},
    }
    async with gateway.client("acme-deploy") as client:
        response = await client.post("/api/v1/deploy", json=deploy)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["image"] == "registry.example.com:5000/acme/web-app:v1.2.3_rc-1"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_only_json_bodies_are_accepted(gateway: Gateway, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps(IMAGE_DEPLOY).encode()
    aws = json.dumps({"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "x"}).encode()
    async with gateway.client("acme-admin") as client:
        for path, content in (("/api/v1/deploy", body), ("/api/v1/connect/aws", aws)):
            response = await client.post(path, content=content, headers=headers)
            assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_json_media_types_with_parameters_or_suffixes_are_json(gateway: Gateway) -> None:
    body = json.dumps(IMAGE_DEPLOY).encode()
    async with gateway.client("acme-deploy") as client:
        for media in ("application/json; charset=UTF-8", "application/vnd.flightdeck+json"):
            response = await client.post(
                "/api/v1/deploy", content=body, headers={"content-type": media}
            )
            assert response.status_code == 202, response.text


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"appName": "web", "env": {"A": "'
    for _ in range(total // 65536):
        yield b"x" * 65536
    yield b'"}}'


async def test_bodies_past_the_limit_are_413_by_length_and_as_they_stream(gateway: Gateway) -> None:
    ten_mb = b'{"appName": "web", "env": {"A": "' + b"x" * (10 * MIB) + b'"}}'
    two_mb_env = json.dumps(
        {**IMAGE_DEPLOY, "env": {f"V{i}": "x" * 20_000 for i in range(100)}}
    ).encode()
    async with gateway.client("acme-deploy") as client:
        for content in (ten_mb, two_mb_env):
            response = await client.post("/api/v1/deploy", content=content, headers=JSON)
            body = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
            assert str(MIB) in body["message"]
        streamed = await client.post("/api/v1/deploy", content=_chunks(2 * MIB), headers=JSON)
        assert "content-length" not in streamed.request.headers
        assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b'{"appName": ' * 50_000,
        b'{"appName": "web", "env": ' + b'{"A": ' * 40 + b'"x"' + b"}" * 41,
    ],
)
async def test_deep_nesting_is_refused_before_any_decoding(gateway: Gateway, raw: bytes) -> None:
    async with gateway.client("acme-deploy") as client:
        refused, health = await asyncio.gather(
            client.post("/api/v1/deploy", content=raw, headers=JSON), client.get("/health")
        )
    body = assert_error(refused, 400, "VALIDATION_ERROR")
    assert "deeper than 32 levels" in body["message"]
    assert health.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"after": "99999999999999999999999:5"},
        {"after": "5:99999999999999999999999"},
        {"before": "9223372036854775808"},
        {"after": "-1"},
        {"before": "+5"},
    ],
)
async def test_log_cursors_out_of_range_are_400(gateway: Gateway, params: dict[str, str]) -> None:
    async with gateway.client("acme-read") as client:
        response = await client.get("/api/v1/logs/web", params=params)
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("digits", [20, 26, 40])
async def test_last_event_ids_past_any_position_are_400(gateway: Gateway, digits: int) -> None:
    dep, _ = await new_deployment(gateway.store)
    huge = "9" * digits
    async with gateway.client("acme-read") as client:
        for path, headers, params in (
            (f"/api/v1/deploy/{dep}/events", {"Last-Event-ID": huge}, {}),
            (f"/api/v1/deploy/{dep}/events", {}, {"lastEventId": huge}),
            (f"/api/v1/deploy/{dep}/events", {"Last-Event-ID": f"{huge}/3"}, {}),
            ("/api/v1/logs/web/stream", {"Last-Event-ID": huge}, {}),
            ("/api/v1/logs/web/stream", {"Last-Event-ID": f"5:{huge}"}, {}),
        ):
            async with client.stream("GET", path, headers=headers, params=params) as response:
                await response.aread()
                assert_error(response, 400, "VALIDATION_ERROR")


async def _next_error(ws: Any) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 20))
        if message["type"] == "error":
            return message


async def test_websocket_messages_are_checked_like_bodies(gateway: Gateway) -> None:
    async with gateway.websocket(max_size=None) as ws:
        await ws.send("[" * 100_000)
        assert "deeper than 32" in (await _next_error(ws))["message"]
        for bad in (
            {"type": "subscribe-to-pipeline", "deploymentId": "x", "fromPosition": 2**64},
            {"type": "subscribe-to-pipeline", "deploymentId": "x", "fromPosition": -1},
            {"type": "subscribe-to-pipeline", "deploymentId": "x", "subscriptionId": "s" * 65},
            {"type": "subscribe-to-logs", "app": "web", "fromPosition": "99999999999999999999999"},
            {"type": "subscribe-to-logs", "app": "Web App"},
        ):
            await ws.send(json.dumps(bad))
            assert (await _next_error(ws))["code"] == "VALIDATION_ERROR", bad
        dep, _ = await new_deployment(gateway.store)
        await ws.send(json.dumps({"type": "subscribe-to-pipeline", "deploymentId": dep}))
        assert msgspec.json.decode(await asyncio.wait_for(ws.recv(), 20))["type"] == "subscribed"


async def test_path_ids_are_checked_too(gateway: Gateway) -> None:
    async with gateway.client("acme-read") as client:
        for path in ("/api/v1/deploy/a.b*>/result", "/api/v1/deploy/" + "x" * 65 + "/result"):
            assert_error(await client.get(path), 400, "VALIDATION_ERROR")
        assert_error(await client.get("/api/v1/logs/Web%20App"), 400, "VALIDATION_ERROR")
        answer = await client.get("/api/v1/logs/web", params={"namespace": "a.b"})
        assert_error(answer, 400, "VALIDATION_ERROR")


async def test_an_unauthenticated_body_is_refused_before_it_is_read(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as anonymous:
        response = await anonymous.post("/api/v1/deploy", content=b"[" * 100_000, headers=JSON)
    assert_error(response, 401, "UNAUTHORIZED")
