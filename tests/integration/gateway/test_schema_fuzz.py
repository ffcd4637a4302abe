"""schemathesis over the published OpenAPI document, with every check it has.

Not only "no 5xx": each answer must have a documented status, the documented
content type and a body that matches the documented schema (success and error
alike); data outside the schema must be refused with a 4xx; a route that
declares a key must refuse a request without one; an undocumented method must
answer 405. Cases are generated from the schema (positive) and against it
(negative). schemathesis calls the API synchronously, so it runs in a worker
thread while the test's event loop keeps serving the gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.gateway.conftest import Gateway

pytestmark = pytest.mark.integration

STREAMING = (
    "/api/v1/deploy/{deployment_id}/events",
    "/api/v1/logs/{app}/stream",
    "/api/v1/apps/{app}/events",
    "/api/v1/events",
)
"""Their success never ends (history, then live); their refusals are tested in test_edge_*.py."""
NOT_APPLICABLE = {
    # Valid by the schema is not enough to be accepted: ids must name things that
    # exist (CONNECTION_NOT_FOUND), GitHub must know the branch, and a deploy needs
    # exactly one source. The schema cannot say that; the other checks still hold.
    "positive_data_acceptance",
}


def fuzz(schema_dict: dict[str, Any], base_url: str, headers: dict[str, str]) -> list[str]:
    import schemathesis
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.config import SchemathesisConfig
    from schemathesis.generation import GenerationMode

    load_all_checks()
    checks = [c for c in CHECKS.get_all() if getattr(c, "__name__", "") not in NOT_APPLICABLE]
    # Invalid data larger than max_body_bytes (an env of long values) is refused with
    # 413 before it is read: a rejection as good as a 400.
    rejections = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": rejections}}}
    )
    schema = schemathesis.openapi.from_dict(schema_dict, config=config)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in STREAMING:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += _fuzz_one(operation, mode, checks, base_url, headers)
    return failures


def _fuzz_one(
    operation: Any, mode: Any, checks: list[Any], base_url: str, headers: dict[str, str]
) -> list[str]:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.core.failures import FailureGroup
    from schemathesis.generation import GenerationMode

    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        # A query value None is dropped by the HTTP client: the request that
        # arrives is not the one generated, and may well be valid.
        assume(None not in (case.query or {}).values())
        # Nor can a query string tell a one-item list from a single value: "became
        # an array" of one item arrives as the (valid) value itself.
        assume(not any(isinstance(v, list) and len(v) == 1 for v in (case.query or {}).values()))
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(
                response,
                checks=checks,
                headers=headers,
                transport_kwargs={"base_url": base_url, "headers": headers},
            )
        except FailureGroup as exc:
            failures.append(f"{mode.value} {case.method} {case.formatted_path}: {exc}")

    try:
        check()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing to get wrong (no parameters)
    return failures


async def test_every_answer_matches_the_document(gateway: Gateway) -> None:
    pytest.importorskip("schemathesis")
    async with gateway.client(None) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    failures = await asyncio.to_thread(fuzz, schema, gateway.url, gateway.auth())
    assert failures == [], "\n".join(failures[:5])
