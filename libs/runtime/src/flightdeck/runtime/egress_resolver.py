"""The SSRF guard's adapter (ADR 0027): resolve a host once, judge every address.

A checker connects to the addresses this returns (keeping the URL's host for the
Host header and TLS SNI) instead of letting its HTTP client resolve the name
again, so a name that answers a public address to the check and a private one
to the connection (DNS rebinding) cannot slip through. When any address of a
name is refused, the name is refused: an attacker controls which one is used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from flightdeck.runtime.egress import (
    EgressPolicy,
    EgressRefused,
    IPAddress,
    Target,
    parse_target,
)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in the resolver's order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(f"{host} does not resolve: {exc.strerror}") from None
    out: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    return out


async def allowed_addresses(target: Target, policy: EgressPolicy) -> list[IPAddress]:
    """The addresses to connect to for ``target``; :class:`EgressRefused` if any is refused."""
    if target.literal is not None:
        policy.check(target.literal)
        return [target.literal]
    addresses = await resolve(target.host, target.port)
    if not addresses:
        raise EgressRefused(f"{target.host} does not resolve")
    for ip in addresses:
        reason = policy.refusal(ip)
        if reason is not None:
            raise EgressRefused(
                f"{target.host} resolves to {ip}, a {reason} address", address=str(ip)
            )
    return addresses


async def check_url(url: str, policy: EgressPolicy) -> tuple[Target, list[IPAddress]]:
    """Parse ``url`` and resolve its host once: what to connect to, or :class:`EgressRefused`."""
    target = parse_target(url)
    return target, await allowed_addresses(target, policy)
