"""Who may do what: API keys, scopes, tenants and short-lived stream tickets.

API keys are random and shown once; only their SHA-256 is stored (an
``ApiTokenCreated`` event, projected into ``api_tokens``). A key's scopes say
what it may do, and its tenant what it may see. Browsers' EventSource cannot
send headers, so SSE also accepts a *stream ticket*: an HMAC-signed, read-only,
tenant-bound grant that expires within a minute, so an API key never travels
in a URL.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from datetime import datetime

import msgspec

from flightdeck.events.apikeys import PREFIX, hash_api_key, new_api_key
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.runtime.sealing import derive_key as _derive_key

TOKEN_PREFIX = PREFIX
TICKET_PREFIX = "fdt_"


class Scope(enum.StrEnum):
    READ = "read"
    DEPLOY = "deploy"
    OPS = "ops"
    ADMIN = "admin"


# What each granted scope allows: every key may read; admin may do everything.
IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.DEPLOY: frozenset({Scope.READ, Scope.DEPLOY}),
    Scope.OPS: frozenset({Scope.READ, Scope.OPS}),
    Scope.ADMIN: frozenset(Scope),
}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of one request: its tenant, its key and what it may do."""

    tenant: str
    token_id: str
    scopes: frozenset[Scope]
    via_ticket: bool = False
    name: str | None = None
    """The key's name (``flightdeck tokens create --name``): the actor of ops actions."""

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"

    @property
    def key_name(self) -> str:
        """Who an audit line names: the key's name, else its id (ADR 0022)."""
        return self.name or self.actor

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


def effective_scopes(granted: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """The scopes a key's granted list allows (unknown names grant nothing)."""
    out: set[Scope] = set()
    for name in granted:
        if name in Scope._value2member_map_:
            out |= IMPLIES[Scope(name)]
    return frozenset(out)


def require(principal: Principal, scope: Scope) -> None:
    if not principal.allows(scope):
        raise ApiError(ErrorCode.FORBIDDEN, f"this key lacks the '{scope.value}' scope")


hash_token = hash_api_key  # the names the gateway's code reads best with
new_token = new_api_key


def bearer(header: str | None) -> str | None:
    """The key in ``Authorization: Bearer <key>``; ``None`` if absent or of another kind."""
    if not header:
        return None
    kind, _, value = header.partition(" ")
    return value.strip() or None if kind.lower() == "bearer" else None


def token_valid(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


# ------------------------------------------------------------------ tickets


class _Ticket(msgspec.Struct, frozen=True, array_like=True):
    tenant: str
    token_id: str
    expires: int  # unix seconds


_ticket_encode = msgspec.json.Encoder().encode
_ticket_decode = msgspec.json.Decoder(_Ticket).decode


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_ticket(key: bytes, principal: Principal, expires: int) -> str:
    """A read-only ticket for ``principal``'s tenant, valid until ``expires`` (unix s)."""
    body = _b64(_ticket_encode(_Ticket(principal.tenant, principal.token_id, expires)))
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{TICKET_PREFIX}{body}.{_b64(mac)}"


def verify_ticket(key: bytes, ticket: str, now: float) -> Principal:
    """The read-only principal a ticket grants; ``UNAUTHORIZED`` if forged or expired."""
    try:
        body, mac = ticket.removeprefix(TICKET_PREFIX).split(".", 1)
        expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
        if not ticket.startswith(TICKET_PREFIX) or not hmac.compare_digest(expected, _unb64(mac)):
            raise ValueError("bad signature")
        grant = _ticket_decode(_unb64(body))
    except (ValueError, msgspec.DecodeError) as exc:
        raise ApiError(ErrorCode.UNAUTHORIZED, "invalid stream ticket") from exc
    if grant.expires <= now:
        raise ApiError(ErrorCode.UNAUTHORIZED, "stream ticket expired")
    return Principal(
        tenant=grant.tenant,
        token_id=grant.token_id,
        scopes=frozenset({Scope.READ}),
        via_ticket=True,
    )


derive_key = _derive_key  # one derivation for every Flightdeck key
