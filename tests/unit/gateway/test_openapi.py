"""The OpenAPI document tells the truth (issue 12, finding 9; ADR 0016): the real error body
for every error status, open routes without security, strict request bodies."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import pytest

from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.entrypoints.app import Dependencies, create_app

pytestmark = pytest.mark.unit

OPEN = {"/health", "/metrics", "/asyncapi", "/asyncapi.json"}
ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    unused: dict[str, Any] = {f.name: None for f in dataclasses.fields(Dependencies)}
    schema = create_app(GatewayConfig(), Dependencies(**unused)).openapi_schema.to_schema()
    return cast(dict[str, Any], json.loads(json.dumps(schema)))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_errors_are_documented_with_the_real_error_body(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "status_code" not in text and '"extra"' not in text
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"timestamp", "status", "error", "message", "errorCode", "path"}
    assert set(body["properties"]) == set(body["required"]) | {"requestId"}
    assert body["properties"]["timestamp"]["format"] == "date-time"
    codes = document["components"]["schemas"]["ErrorCode"]["enum"]
    assert {
        "VALIDATION_ERROR",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "AT_CAPACITY",
    } <= set(codes)
    for path, method, op in operations(document):
        if path in OPEN:
            continue
        errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}
        assert {401, 500} <= set(errors), (method, path)
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, status)
            assert "errorCode" in response["description"], (method, path, status)


@pytest.mark.parametrize(
    ("operation", "statuses"),
    [
        ("createDeployment", {202, 400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503}),
        ("connectAws", {201, 400, 401, 403, 413, 415, 500, 502}),
        ("connectGithub", {201, 400, 401, 403, 413, 415, 500, 502}),
        ("getDeploymentResult", {200, 400, 401, 404, 500}),
        ("listDeployments", {200, 400, 401, 500}),
        ("streamDeploymentEvents", {200, 204, 400, 401, 404, 429, 500, 503}),
        ("getApp", {200, 400, 401, 404, 500}),
        ("listApps", {200, 400, 401, 500}),
        ("streamAppEvents", {200, 400, 401, 404, 429, 500, 503}),
        ("streamTenantEvents", {200, 400, 401, 429, 500, 503}),
        ("streamAppLogs", {200, 400, 401, 404, 429, 500, 503}),
        ("getAppLogs", {200, 400, 401, 404, 500}),
        ("createStreamTicket", {201, 401, 500}),
        ("listConnections", {200, 401, 500}),
        ("health", {200, 503}),
        ("metrics", {200}),
    ],
)
def test_each_route_lists_every_status_it_can_answer(
    document: dict[str, Any], operation: str, statuses: set[int]
) -> None:
    (op,) = [op for _, _, op in operations(document) if op["operationId"] == operation]
    assert {int(s) for s in op["responses"]} == statuses


def test_open_routes_need_no_key_and_the_others_say_so(document: dict[str, Any]) -> None:
    assert "security" not in document
    for path, method, op in operations(document):
        if path in OPEN:
            assert "security" not in op, (method, path)
        else:
            assert op["security"] == [{"bearer": []}], (method, path)


def test_request_bodies_refuse_unknown_fields_in_the_document_too(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for name in ("DeployCreate", "AwsConnectionCreate", "GithubConnectionCreate"):
        assert schemas[name]["additionalProperties"] is False, name
    env = schemas["DeployCreate"]["properties"]["env"]
    assert env["maxProperties"] == 100
    assert env["propertyNames"]["pattern"].startswith("^(?:[A-Za-z_]")


def test_times_are_date_times(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, field in (
        ("DeploymentResult", "createdAt"),
        ("DeploymentSummary", "createdAt"),
        ("StageResult", "startedAt"),
        ("Connection", "createdAt"),
        ("StreamTicket", "expiresAt"),
    ):
        prop = schemas[name]["properties"][field]
        formats = [prop.get("format")] + [o.get("format") for o in prop.get("oneOf", [])]
        assert "date-time" in formats, (name, field, prop)


def test_deploy_documents_its_idempotency_key_and_the_conflict_it_may_answer(
    document: dict[str, Any],
) -> None:
    (op,) = [op for _, _, op in operations(document) if op["operationId"] == "createDeployment"]
    (header,) = [p for p in op["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 128)
    assert "CONFLICT" in op["responses"]["409"]["description"]
