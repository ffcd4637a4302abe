"""Stored connections with their latest sealed secret, read from the audit stream.

A connection is created once (``AwsConnectionCreated``, ``GithubConnectionCreated``)
and may be re-sealed any number of times by key rotations (``ConnectionResealed``);
its secret is the latest sealed value. Connections live on
``fd.evt.conn.<tenant>``; older ones were recorded on ``fd.evt.access.<tenant>``
and stay there, so every reader reads both. The read model keeps no secrets,
which is why the services that must open one read it here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import msgspec

from flightdeck.events import streams, subjects
from flightdeck.events.audit import (
    AwsConnectionCreated,
    ConnectionResealed,
    GithubConnectionCreated,
    SealedSecret,
)
from flightdeck.events.envelope import Recorded

Connection = AwsConnectionCreated | GithubConnectionCreated


class _Events(Protocol):
    @property
    def events(self) -> list[Recorded[Any]]: ...


class StreamReader(Protocol):
    """What :func:`read_connections` needs of an event store (any adapter of the port)."""

    def read_chunks(self, stream: str, subject: str = ">") -> AsyncIterator[_Events]: ...


def sealed_secret(connection: Connection) -> SealedSecret:
    """The connection's secret: the AWS keys or the GitHub token."""
    if isinstance(connection, AwsConnectionCreated):
        return connection.secret
    return connection.token


def with_secret(connection: Connection, secret: SealedSecret) -> Connection:
    if isinstance(connection, AwsConnectionCreated):
        return msgspec.structs.replace(connection, secret=secret)
    return msgspec.structs.replace(connection, token=secret)


def current(events: Iterable[Recorded[Any]]) -> dict[str, Connection]:
    """Every connection in ``events`` (in stream order), its secret the latest sealed one.

    A re-seal for an unknown connection, or naming another tenant, changes nothing.
    """
    found: dict[str, Connection] = {}
    for recorded in events:
        event = recorded.event
        if isinstance(event, AwsConnectionCreated | GithubConnectionCreated):
            found[event.connection_id] = event
        elif isinstance(event, ConnectionResealed):
            known = found.get(event.connection_id)
            if known is not None and known.tenant == event.tenant:
                found[event.connection_id] = with_secret(known, event.secret)
    return found


async def read_connections(store: StreamReader, tenant: str | None = None) -> dict[str, Connection]:
    """The stored connections of ``tenant`` (of every tenant if ``None``), by id."""
    if tenant is not None:
        filters = (subjects.access(tenant), subjects.connections(tenant))
    else:
        filters = (subjects.ALL_ACCESS, subjects.ALL_CONNECTIONS)
    events: list[Recorded[Any]] = []
    for subject_filter in filters:
        async for chunk in store.read_chunks(streams.AUDIT, subject_filter):
            events.extend(chunk.events)
    events.sort(key=lambda r: r.position)
    return current(events)
