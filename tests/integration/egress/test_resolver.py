"""The SSRF guard's adapter resolves a name once and judges every address it gets."""

from __future__ import annotations

import ipaddress

import pytest

from flightdeck.runtime.egress import EgressPolicy, EgressRefused
from flightdeck.runtime.egress_resolver import check_url

pytestmark = pytest.mark.integration


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(EgressRefused, match=r"localhost resolves to .*loopback"):
        await check_url("http://localhost:8080/health", EgressPolicy())


async def test_the_allowlist_returns_the_addresses_to_connect_to_with_the_host_kept() -> None:
    policy = EgressPolicy.of(["127.0.0.0/8", "::1/128"])
    target, addresses = await check_url("http://localhost:8080/health", policy)
    assert target.host == "localhost" and target.port == 8080
    assert addresses and all(ip.is_loopback for ip in addresses)


async def test_literal_metadata_address_is_refused_without_dns() -> None:
    with pytest.raises(EgressRefused, match=r"169\.254\.169\.254 is a link-local"):
        await check_url("http://169.254.169.254/latest/meta-data/", EgressPolicy())
    _, addresses = await check_url(
        "http://169.254.169.254/", EgressPolicy.of(["169.254.169.254/32"])
    )
    assert addresses == [ipaddress.ip_address("169.254.169.254")]


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(EgressRefused, match="does not resolve"):
        await check_url("http://no-such-host.invalid/", EgressPolicy())
