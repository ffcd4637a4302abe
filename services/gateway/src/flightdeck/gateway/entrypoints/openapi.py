"""The OpenAPI document, told truthfully: every error a route can answer, in the real shape.

Each route lists its error codes (:func:`errors`); they are grouped by status,
each status documented with the one error body (``ErrorBody``) and the codes it
may carry. Routes that need a key say so (:data:`SECURED`); ``/health`` and
``/metrics`` do not. Request bodies are described by msgspec, which validates
them (:func:`amend`). A test runs schemathesis with every check against this
document.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPI

from flightdeck.gateway.domain.errors import STATUS, ErrorCode, status_phrase
from flightdeck.gateway.schemas import ErrorBody

REF = "#/components/schemas/{name}"
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
"""The security requirement of every route but the open ones."""

READ = (ErrorCode.VALIDATION_ERROR, ErrorCode.UNAUTHORIZED)
"""What every authenticated route with parameters may answer."""
BODY = (ErrorCode.FORBIDDEN, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
"""What a route taking a JSON body (behind a scope) may answer, beyond :data:`READ`."""
STREAM = (ErrorCode.TOO_MANY_CONNECTIONS, ErrorCode.AT_CAPACITY)
"""What opening a stream may answer, beyond :data:`READ`."""
IN_PATH = (ErrorCode.NOT_FOUND,)
"""What a route with a path parameter may answer when the value makes no path of
this route: empty, a ``/``, or a dot segment that the client resolves away."""


def errors(*codes: ErrorCode) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route that may answer ``codes`` (and, always, ``INTERNAL_ERROR``)."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in (*codes, ErrorCode.INTERNAL_ERROR):
        if code.value not in by_status[STATUS[code]]:
            by_status[STATUS[code]].append(code.value)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            generate_examples=False,
            description=f"{status_phrase(status)}: errorCode {' or '.join(found)}",
        )
        for status, found in sorted(by_status.items())
    }


def amend(openapi: OpenAPI, requests: tuple[type[msgspec.Struct], ...]) -> None:
    """Document the ``requests`` bodies by msgspec's own JSON Schema: the validator's truth.

    Litestar's generator drops what msgspec enforces on maps (key pattern, at most
    N entries) and never says ``additionalProperties: false`` for a Struct that
    refuses unknown fields.
    """
    _, exact = msgspec.json.schema_components(requests, ref_template=REF)
    schemas: dict[str, Any] = dict(openapi.components.schemas or {})
    schemas.update(exact)  # plain JSON Schema dicts: Litestar serialises them as they are
    openapi.components.schemas = schemas
