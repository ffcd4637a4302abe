"""Admission: a tenant's own limits first, then the gateway's; refusals that name the caller's
tenant only.

A tenant at its own limit is told so (429, with its own numbers: they are its
own). A full gateway answers ``503 AT_CAPACITY`` without a number, so no caller
learns how busy the other tenants are. The tenant's limit is checked first, so
a tenant that fills its own share is never told about the gateway's.
"""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.gateway.domain.errors import ApiError, ErrorCode


@dataclass(frozen=True)
class Limit:
    """At most ``per_tenant`` for one tenant and ``overall`` for all tenants together."""

    per_tenant: int
    overall: int


def admit_deployment(limit: Limit, tenant_active: int, all_active: int) -> None:
    """Raise unless one more deployment of a tenant with ``tenant_active`` in flight fits."""
    if tenant_active >= limit.per_tenant:
        raise ApiError(
            ErrorCode.QUEUE_FULL,
            f"your tenant has {tenant_active} deployments pending or in progress, its limit "
            f"({limit.per_tenant}); retry when one has finished",
        )
    if all_active >= limit.overall:
        raise ApiError(
            ErrorCode.AT_CAPACITY, "the gateway is at capacity for deployments; retry in a minute"
        )


def admit_connection(limit: Limit, tenant_open: int, all_open: int) -> None:
    """Raise unless one more streaming connection of a tenant with ``tenant_open`` fits."""
    if tenant_open >= limit.per_tenant:
        raise ApiError(
            ErrorCode.TOO_MANY_CONNECTIONS,
            f"your tenant has {tenant_open} streaming connections open, its limit "
            f"({limit.per_tenant}); close one first",
        )
    if all_open >= limit.overall:
        raise ApiError(
            ErrorCode.AT_CAPACITY,
            "the gateway is at capacity for streaming connections; retry in a few seconds",
        )


def admit_subscription(limit: int, open_now: int) -> None:
    """Raise unless one more subscription fits on a socket holding ``open_now``."""
    if open_now >= limit:
        raise ApiError(
            ErrorCode.TOO_MANY_SUBSCRIPTIONS,
            f"a socket holds at most {limit} subscriptions; unsubscribe one or open another socket",
        )
