"""The gateway serves the NATS contract (issue 13 item 5): /asyncapi.json is exactly
docs/asyncapi.json, /asyncapi a page of it; open like /schema, with the one error shape."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.entrypoints.app import Dependencies, create_app

pytestmark = pytest.mark.unit

DOC = Path(__file__).parents[3] / "docs" / "asyncapi.json"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:  # type: ignore[type-arg]
    unused = {f.name: None for f in dataclasses.fields(Dependencies)}
    with TestClient(create_app(GatewayConfig(), Dependencies(**unused))) as client:
        yield client


def test_the_document_is_docs_asyncapi_json_without_a_key(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == DOC.read_bytes()


def test_the_page_shows_the_contract(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<code>fd.cmd.orchestrator.start</code>" in response.text
    assert "href='/asyncapi.json'" in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/asyncapi.json?tenant=acme", 400, "VALIDATION_ERROR"),
        ("get", "/asyncapi?x=1", 400, "VALIDATION_ERROR"),
        ("post", "/asyncapi.json", 405, "METHOD_NOT_ALLOWED"),
        ("get", "/asyncapi.json/StartDeployment", 404, "NOT_FOUND"),
    ],
)
def test_bad_requests_get_the_one_error_shape(
    client: TestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    body = response.json()
    assert body["errorCode"] == code and body["status"] == status and body["path"]


def test_the_contract_is_the_same_for_everyone(client: TestClient) -> None:  # type: ignore[type-arg]
    """Public like /schema: nothing in it belongs to a tenant, so a key (any tenant's, or
    a bogus one) changes nothing, and no key is asked for."""
    anonymous = client.get("/asyncapi.json")
    for key in ("fd_acme_0123456789abcdef", "not-a-key"):
        keyed = client.get("/asyncapi.json", headers={"Authorization": f"Bearer {key}"})
        assert (keyed.status_code, keyed.content) == (200, anonymous.content)
    assert b"acme" not in anonymous.content
