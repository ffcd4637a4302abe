"""A deployment's AWS connection: its sealed keys, read from the audit stream and opened.

The gateway records each connection as ``AwsConnectionCreated`` with the secret
sealed under the installation key (``FLIGHTDECK_SECRETS__KEY``); key rotations
re-seal it (``ConnectionResealed``). The poller finds it by id, with its latest
sealed secret, and opens it here, so keys never travel in commands or sit in
the read model.
"""

from __future__ import annotations

from typing import Any

import msgspec

from flightdeck.events.audit import AwsConnectionCreated
from flightdeck.events.connections import read_connections
from flightdeck.eventstore import EventStore
from flightdeck.runtime.sealing import Sealer, SecretError, connection_binding


class ConnectionUnusable(Exception):
    """The named AWS connection does not exist or its secret cannot be opened."""


class _AwsSecret(msgspec.Struct, rename="camel"):
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class AwsConnections:
    """Session settings (keys and region) of AWS connections, by id."""

    def __init__(self, store: EventStore, sealer: Sealer | None) -> None:
        self._store = store
        self._sealer = sealer
        self._known: dict[str, AwsConnectionCreated] = {}

    async def session_kwargs(self, connection_id: str) -> dict[str, Any]:
        created = self._known.get(connection_id) or await self._find(connection_id)
        if self._sealer is None:
            raise ConnectionUnusable(
                f"AWS connection {connection_id}: FLIGHTDECK_SECRETS__KEY is not set here"
            )
        try:
            text = self._open(created)
        except SecretError:
            # A rotation may have re-sealed it since it was remembered: read it again.
            created = await self._find(connection_id)
            try:
                text = self._open(created)
            except SecretError as exc:
                raise ConnectionUnusable(f"AWS connection {connection_id}: {exc}") from None
        secret = msgspec.json.decode(text, type=_AwsSecret)
        kwargs: dict[str, Any] = {
            "aws_access_key_id": secret.access_key_id,
            "aws_secret_access_key": secret.secret_access_key,
            "region_name": created.region,
        }
        if secret.session_token:
            kwargs["aws_session_token"] = secret.session_token
        return kwargs

    def _open(self, created: AwsConnectionCreated) -> str:
        assert self._sealer is not None
        return self._sealer.open(
            created.secret, connection_binding(created.tenant, created.connection_id)
        )

    async def _find(self, connection_id: str) -> AwsConnectionCreated:
        """Read the (small) connection part of the audit stream, remembering every AWS one."""
        for found in (await read_connections(self._store)).values():
            if isinstance(found, AwsConnectionCreated):
                self._known[found.connection_id] = found
        if connection_id not in self._known:
            raise ConnectionUnusable(f"AWS connection {connection_id} does not exist")
        return self._known[connection_id]
