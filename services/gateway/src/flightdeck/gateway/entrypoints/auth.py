"""Who is calling: the Bearer key (every endpoint) or a stream ticket (streaming ones only).

An API key never travels in a URL: ``?ticket=`` accepts only the short-lived,
read-only tickets from ``POST /api/v1/stream-tickets``.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection

from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain.auth import Principal, Scope, bearer, require, verify_ticket
from flightdeck.gateway.domain.errors import ApiError, ErrorCode


async def authenticate(
    deps: Deps, connection: ASGIConnection[Any, Any, Any, Any], *, tickets: bool = False
) -> Principal:
    """The caller's principal; ``UNAUTHORIZED`` when there is none or it is not valid."""
    key = bearer(connection.headers.get("authorization"))
    if key is not None:
        principal = await deps.tokens.principal(key)
        if principal is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, "unknown, expired or revoked API key")
        return principal
    ticket = connection.query_params.get("ticket") if tickets else None
    if ticket:
        granted = verify_ticket(deps.ticket_key, ticket, time.time())
        if deps.tokens.is_revoked(granted.token_id):  # a ticket dies with its key
            raise ApiError(ErrorCode.UNAUTHORIZED, "unknown, expired or revoked API key")
        return granted
    hint = " or ?ticket=" if tickets else ""
    raise ApiError(ErrorCode.UNAUTHORIZED, f"send Authorization: Bearer <API key>{hint}")


def needs(scope: Scope) -> Any:
    """A guard: authenticated, with ``scope``, before the body is even decoded."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
        deps: Deps = connection.app.state.deps
        principal = await authenticate(deps, connection)
        connection.state.principal = principal
        require(principal, scope)

    return guard


async def current_principal(
    deps: Deps, connection: ASGIConnection[Any, Any, Any, Any], *, tickets: bool = False
) -> Principal:
    """The principal a guard already established, or a fresh authentication."""
    found = connection.state.get("principal")
    if isinstance(found, Principal):
        return found
    return await authenticate(deps, connection, tickets=tickets)
