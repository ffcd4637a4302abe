"""The SSRF guard's decision (issue 15 item 8, ADR 0027): internal addresses are refused
unless the operator allows their network; IPv6 forms of an IPv4 address count as it."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.runtime.egress import (
    EgressPolicy,
    EgressRefused,
    EgressSettings,
    internal_reason,
    parse_target,
)

pytestmark = pytest.mark.unit

NONE = EgressPolicy()

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("169.254.0.1", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "non-public"),  # CGNAT
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fd00::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_internal_addresses_are_refused_with_their_kind(address: str, reason: str) -> None:
    assert NONE.refusal(address) == reason
    with pytest.raises(EgressRefused, match=reason) as caught:
        NONE.check(address)
    assert caught.value.address == address


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert NONE.refusal(address) is None
    NONE.check(address)


def test_the_allowlist_lets_its_networks_through_and_only_them() -> None:
    policy = EgressSettings(allow_cidrs=["127.0.0.0/8", "169.254.169.254/32"]).policy()
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("169.254.169.254") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the mapped form of an allowed one
    assert policy.refusal("169.254.169.253") == "link-local"
    assert policy.refusal("10.0.0.1") == "private"
    assert policy.refusal("::1") == "loopback"


def test_a_bad_cidr_in_the_settings_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not a CIDR"):
        EgressSettings(allow_cidrs=["10.0.0.0/33"])


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_mapped_ipv6_form_get_the_same_answer(
    ip: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    assert (internal_reason(ip) is None) == (internal_reason(mapped) is None)


@given(st.ip_addresses())
def test_allowed_means_globally_routable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if NONE.refusal(ip) is None:
        inner = ip.ipv4_mapped or ip.sixtofour if isinstance(ip, ipaddress.IPv6Address) else None
        judged = inner or ip
        assert judged.is_global and not judged.is_multicast


@given(
    st.ip_addresses(v=6).map(
        lambda ip: ipaddress.IPv6Address(
            f"::ffff:{ip.packed[-4:].hex()[:4]}:{ip.packed[-4:].hex()[4:]}"
        )
    )
)
def test_a_mapped_address_is_judged_by_its_ipv4_address(ip: ipaddress.IPv6Address) -> None:
    assert ip.ipv4_mapped is not None
    assert internal_reason(ip) == internal_reason(ip.ipv4_mapped)


@given(st.ip_addresses(network="10.0.0.0/8"))
def test_everything_in_an_allowed_network_is_allowed(ip: ipaddress.IPv4Address) -> None:
    assert NONE.refusal(ip) == "private"
    assert EgressPolicy.of(["10.0.0.0/8"]).refusal(ip) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://user:pw@example.com/", "credentials in the URL"),
        ("http://example.com:99999/", "not a valid URL"),
        ("example.com", "only http and https"),
    ],
)
def test_urls_that_are_not_http_targets_are_refused(url: str, message: str) -> None:
    with pytest.raises(EgressRefused, match=message):
        parse_target(url)


def test_a_target_keeps_the_host_and_defaults_the_port() -> None:
    t = parse_target("https://Example.com/health")
    assert (t.scheme, t.host, t.port, t.literal) == ("https", "example.com", 443, None)
    t = parse_target("http://[::1]:8080/")
    assert (t.host, t.port, t.literal) == ("::1", 8080, ipaddress.IPv6Address("::1"))
