"""What every request passes before its handler: single query values, and JSON bodies only,
bounded in size and in depth, before any decoding.

Runs as the app's ``before_request`` hook, after the guards and before Litestar
decodes the handler's arguments. A route that needs a key authenticates here
first (if no guard did), so an anonymous caller is refused (401) before
anything it sent is looked at, on every route alike.

- The query string holds only the parameters the OpenAPI document lists for
  the route, and one the document gives as one value (not an array) appears
  once: Litestar would silently ignore the unknown and keep the first of
  ``?a=1&a=2``, so a typo (``?limt=5``) would go unnoticed.
- A body must be JSON (``415 UNSUPPORTED_MEDIA_TYPE`` otherwise). Reading it
  here enforces ``max_body_bytes`` twice: on ``Content-Length`` at once, and
  while the body streams in (a chunked body has no length); either answers
  ``413 PAYLOAD_TOO_LARGE``. Then its bytes are checked for nesting depth
  (:mod:`flightdeck.gateway.domain.jsondepth`), so no decoder ever recurses on
  a hostile document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from litestar import Request
from litestar.openapi.spec import OpenAPI, Operation, Parameter, Reference, Schema

from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.jsondepth import TooDeep, check_depth
from flightdeck.gateway.entrypoints.auth import authenticate

Hook = Callable[[Request[Any, Any, Any]], Awaitable[None]]


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, in UTF-8 (RFC 8259)."""
    if not content_type:
        return False
    media, _, params = content_type.partition(";")
    kind, _, subtype = media.strip().lower().partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return False
    return True


class QueryRules(NamedTuple):
    """What the document says of an operation: whether it needs a key (or takes a stream
    ticket), its query parameters, and those of them that take one value."""

    secured: bool
    tickets: bool
    known: frozenset[str]
    single: frozenset[str]


def query_rules(openapi: OpenAPI) -> dict[str, QueryRules]:
    """Per operation id, what its query string may hold, from the document itself."""
    found: dict[str, QueryRules] = {}
    for item in (openapi.paths or {}).values():
        for operation in (item.get, item.post, item.put, item.patch, item.delete):
            if operation is not None:
                _collect(found, operation)
    return found


def _collect(found: dict[str, QueryRules], operation: Operation) -> None:
    if operation.operation_id is None:
        return
    query = [
        p for p in operation.parameters or () if isinstance(p, Parameter) and p.param_in == "query"
    ]
    found[operation.operation_id] = QueryRules(
        secured=bool(operation.security),
        tickets=any(p.name == "ticket" for p in query),
        known=frozenset(p.name for p in query),
        single=frozenset(p.name for p in query if not _is_array(p.schema)),
    )


def _is_array(schema: Schema | Reference | None) -> bool:
    if not isinstance(schema, Schema):
        return False
    kinds = schema.type if isinstance(schema.type, list) else [schema.type]
    if any(str(getattr(k, "value", k)) == "array" for k in kinds):
        return True
    return any(_is_array(s) for s in [*(schema.one_of or ()), *(schema.any_of or ())])


def edge_checks(max_depth: int, queries: dict[str, QueryRules]) -> Hook:
    """The ``before_request`` hook of every route."""

    async def check(request: Request[Any, Any, Any]) -> None:
        handler = request.route_handler
        operation = handler.operation_id  # every route of ours names it (a string)
        rules = queries.get(operation) if isinstance(operation, str) else None
        if rules is not None:
            if rules.secured and not isinstance(request.state.get("principal"), Principal):
                auth = request.app.state.auth
                request.state.principal = await authenticate(auth, request, tickets=rules.tickets)
            _check_query(request, rules)
        if "data" in handler.parsed_fn_signature.parameters:
            await _json_body(request, max_depth)

    return check


def _check_query(request: Request[Any, Any, Any], rules: QueryRules) -> None:
    given = request.query_params
    for name in given:
        if name not in rules.known:
            known = ", ".join(sorted(rules.known)) or "none"
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                f"unknown query parameter {name[:40]!r} (this route takes: {known})",
            )
        if name in rules.single and len(given.getall(name)) > 1:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"{name}: give it at most once")


async def _json_body(request: Request[Any, Any, Any], max_depth: int) -> None:
    if not is_json(request.headers.get("content-type")):
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON: Content-Type: application/json",
        )
    raw = await request.body()  # 413 from Litestar past request_max_body_size
    try:
        check_depth(raw, max_depth)
    except TooDeep as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"body: {exc}") from exc
