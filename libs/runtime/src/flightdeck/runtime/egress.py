"""The SSRF guard's decision (ADR 0027): may Flightdeck open a connection to this address?

Pure: no DNS, no sockets (:mod:`flightdeck.runtime.egress_resolver` resolves a
host once and asks this module about every address). The gateway calls it when
a monitor is created, the prober and the notifier when they connect, so a URL
that was fine at creation and later resolves inward is still refused.

An address is refused when it is loopback, link-local (169.254.0.0/16, where
the cloud metadata service lives, and fe80::/10), private (RFC 1918, ULA
fc00::/7, CGNAT 100.64.0.0/10 …), multicast, reserved, unspecified or
otherwise not globally routable, for IPv4 and IPv6 alike; an IPv6 address that
embeds an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``) is judged by the IPv4 address inside. An operator may allow
networks back by CIDR (``FLIGHTDECK_EGRESS__ALLOW_CIDRS``), e.g. an internal
service a monitor must reach.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
ALLOWED_SCHEMES = frozenset({"http", "https"})


class EgressSettings(BaseSettings):
    """Where monitors, probes and notifications may connect to (the SSRF guard, ADR 0027)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_EGRESS__", extra="ignore", use_attribute_docstrings=True
    )

    allow_cidrs: list[str] = []
    """Networks allowed although internal (loopback, private, link-local …), as CIDRs, e.g.
    ["10.0.0.0/8", "127.0.0.1/32"] (JSON in the environment, a list in TOML). Empty: every
    internal address is refused."""

    @field_validator("allow_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a CIDR (e.g. 10.0.0.0/8)") from None
        return value

    def policy(self) -> EgressPolicy:
        return EgressPolicy.of(self.allow_cidrs)


class EgressRefused(Exception):
    """A URL or address the guard refuses; the message is one line for a person."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's allowlist; everything globally routable is allowed anyway."""

    allow: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> EgressPolicy:
        return cls(tuple(ipaddress.ip_network(c, strict=False) for c in cidrs))

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why ``address`` is refused (e.g. ``"loopback"``), or None when allowed."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        reason = internal_reason(ip)
        if reason is None:
            return None
        candidates = [ip, *_embedded(ip)]
        if any(c in net for c in candidates for net in self.allow if c.version == net.version):
            return None
        return reason

    def check(self, address: str | IPAddress) -> None:
        """Raise :class:`EgressRefused` unless ``address`` may be connected to."""
        reason = self.refusal(address)
        if reason is not None:
            raise EgressRefused(f"{address} is a {reason} address", address=str(address))


def internal_reason(ip: IPAddress) -> str | None:
    """The kind of non-public address ``ip`` is, or None for a public one."""
    inner = _embedded(ip)
    if inner:  # an IPv6 spelling of an IPv4 address: that address decides
        return internal_reason(inner[0])
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:  # CGNAT 100.64/10, documentation ranges, ...
        return "non-public"
    return None


def _embedded(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    return []


@dataclass(frozen=True)
class Target:
    """A URL split into what a checker connects to: scheme, host (kept for Host/SNI), port."""

    scheme: str
    host: str
    port: int
    literal: IPAddress | None
    """The host when it is an IP address (no DNS needed)."""


def parse_target(url: str) -> Target:
    """Split an http(s) URL; :class:`EgressRefused` (one line) when it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise EgressRefused("only http and https URLs may be monitored")
    host = parts.hostname
    if not host:
        raise EgressRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise EgressRefused("credentials in the URL are not allowed; use a header")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    return Target(
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        literal=literal,
    )
