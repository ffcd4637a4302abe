"""API keys, scopes and stream tickets."""

from __future__ import annotations

import pytest

from flightdeck.gateway.domain.auth import (
    Principal,
    Scope,
    bearer,
    derive_key,
    effective_scopes,
    hash_token,
    new_token,
    require,
    sign_ticket,
    verify_ticket,
)
from flightdeck.gateway.domain.errors import ApiError, ErrorCode

pytestmark = pytest.mark.unit

KEY = derive_key(b"m" * 32, "stream-tickets")
WHO = Principal(tenant="acme", token_id="t1", scopes=frozenset(Scope))


def test_keys_are_prefixed_random_and_stored_as_hashes() -> None:
    token = new_token(b"\x01" * 32)
    assert token.startswith("fdk_")
    assert hash_token(token) != token
    assert len(hash_token(token)) == 64


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), (None, None), ("", None)],
)
def test_bearer(header: str | None, expected: str | None) -> None:
    assert bearer(header) == expected


def test_scopes_imply_read_and_admin_implies_all() -> None:
    assert effective_scopes(["deploy"]) == {Scope.READ, Scope.DEPLOY}
    assert effective_scopes(["admin"]) == set(Scope)
    assert effective_scopes(["bogus"]) == frozenset()
    reader = Principal(tenant="a", token_id="t", scopes=effective_scopes(["read"]))
    with pytest.raises(ApiError) as caught:
        require(reader, Scope.DEPLOY)
    assert caught.value.code is ErrorCode.FORBIDDEN


def test_a_ticket_grants_read_on_its_tenant_until_it_expires() -> None:
    ticket = sign_ticket(KEY, WHO, expires=1_000)
    granted = verify_ticket(KEY, ticket, now=999.0)
    assert granted.tenant == "acme"
    assert granted.scopes == {Scope.READ}
    assert granted.via_ticket
    with pytest.raises(ApiError, match="expired"):
        verify_ticket(KEY, ticket, now=1_000.0)


@pytest.mark.parametrize(
    "ticket",
    [
        sign_ticket(derive_key(b"x" * 32, "stream-tickets"), WHO, 10**10),
        sign_ticket(KEY, WHO, 10**10)[:-2] + "AA",
        "fdt_",
        "fdt_abc.def",
        "fdk_" + sign_ticket(KEY, WHO, 10**10)[4:],
    ],
)
def test_forged_tickets_are_refused(ticket: str) -> None:
    with pytest.raises(ApiError) as caught:
        verify_ticket(KEY, ticket, now=0.0)
    assert caught.value.code is ErrorCode.UNAUTHORIZED
