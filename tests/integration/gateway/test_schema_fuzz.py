"""schemathesis over the published OpenAPI document: no input makes the gateway answer 5xx.

schemathesis calls the API synchronously, so it runs in a worker thread while
the test's event loop keeps serving the gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.gateway.conftest import Gateway

pytestmark = pytest.mark.integration

STREAMING = ("/api/v1/deploy/{deployment_id}/events", "/api/v1/logs/{app}/stream")


def fuzz(schema_dict: dict[str, Any], base_url: str, headers: dict[str, str]) -> list[str]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_dict(schema_dict)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in STREAMING:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code} {response.text}"
                )

        check()
    return failures


async def test_no_input_makes_the_gateway_fail(gateway: Gateway) -> None:
    pytest.importorskip("schemathesis")
    async with gateway.client(None) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    failures = await asyncio.to_thread(fuzz, schema, gateway.url, gateway.auth())
    assert sorted(set(failures)) == []
