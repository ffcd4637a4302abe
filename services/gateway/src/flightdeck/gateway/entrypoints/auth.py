"""Who is calling: the Bearer key (every endpoint) or a stream ticket (streaming ones only).

An API key never travels in a URL: ``?ticket=`` accepts only the short-lived,
read-only tickets from ``POST /api/v1/stream-tickets``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from flightdeck.gateway.domain.auth import Principal, Scope, bearer, require
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.service_layer.tokens import Authenticator


async def authenticate(
    auth: Authenticator, connection: ASGIConnection[Any, Any, Any, Any], *, tickets: bool = False
) -> Principal:
    """The caller's principal; ``UNAUTHORIZED`` when there is none or it is not valid."""
    key = bearer(connection.headers.get("authorization"))
    if key is not None:
        return await auth.by_key(key)
    ticket = connection.query_params.get("ticket") if tickets else None
    if ticket:
        return auth.by_ticket(ticket)
    hint = " or ?ticket=" if tickets else ""
    raise ApiError(ErrorCode.UNAUTHORIZED, f"send Authorization: Bearer <API key>{hint}")


def needs(scope: Scope) -> Any:
    """A guard: authenticated, with ``scope``, before the body is even decoded."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
        auth: Authenticator = connection.app.state.auth
        principal = await authenticate(auth, connection)
        connection.state.principal = principal
        require(principal, scope)

    return guard


async def current_principal(
    auth: Authenticator, connection: ASGIConnection[Any, Any, Any, Any], *, tickets: bool = False
) -> Principal:
    """The principal a guard already established, or a fresh authentication."""
    found = connection.state.get("principal")
    if isinstance(found, Principal):
        return found
    return await authenticate(auth, connection, tickets=tickets)
