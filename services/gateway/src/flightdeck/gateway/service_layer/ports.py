"""What the gateway's service layer needs of the outside world, each as a small Protocol.

The adapters (the event store, the SQL read model, STS, GitHub, the sealer)
satisfy them structurally; :mod:`flightdeck.gateway.bootstrap` builds the
adapters and hands each handler group only the ones it uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from flightdeck.events import Cause, Recorded
from flightdeck.events.audit import SealedSecret
from flightdeck.events.connections import Connection
from flightdeck.gateway.domain.identities import CallerIdentity

Row = dict[str, Any]

# The read-model Protocols a controller receives are runtime-checkable: Litestar checks
# every dependency it injects against the parameter's type.


class Append(Protocol):
    """The event store's append (``expected=0``: the aggregate must not exist yet; ``ids``:
    message ids chosen so that a repeated append is stored once)."""

    async def __call__(
        self,
        subject: str,
        events: Sequence[Any],
        *,
        cause: Cause,
        expected: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> Any: ...


class DeploymentRequests(Protocol):
    """Deployments' first events (their ``DeploymentRequested``), read from the event store."""

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        """The aggregate's first event, or ``None`` if it has none yet."""
        ...

    async def wait_first(self, subject: str, within_s: float) -> Recorded[Any] | None:
        """The aggregate's first event as soon as it is stored; ``None`` if it was not
        within ``within_s`` seconds."""
        ...


ConnectionsOf = Callable[[str], Awaitable[dict[str, Connection]]]
"""A tenant's stored connections with their latest sealed secret, by id (the audit stream)."""


class Owners(Protocol):
    """Who owns a namespace or an app, read from the event store (ADR 0012)."""

    async def namespace_owner(self, namespace: str) -> str | None: ...

    async def app_owner(self, namespace: str, app: str) -> str | None: ...

    async def claim_app(
        self, tenant: str, namespace: str, app: str, deployment_id: str, cause: Cause
    ) -> str | None: ...


class Sealing(Protocol):
    def seal(self, secret: str, binding: str) -> SealedSecret: ...

    def open(self, sealed: SealedSecret, binding: str) -> str: ...


class Identities(Protocol):
    async def identify(
        self, access_key_id: str, secret_access_key: str, region: str, session_token: str | None
    ) -> CallerIdentity:
        """Who these AWS credentials are (``AWS_CREDENTIALS_INVALID`` if AWS refuses them)."""
        ...


class Branches(Protocol):
    async def branch_sha(self, owner: str, repo: str, branch: str, token: str) -> str:
        """The commit a GitHub branch points at, checked with ``token``."""
        ...


@runtime_checkable
class DeploymentRows(Protocol):
    """The read model's deployments (CQRS: every GET is answered from here)."""

    async def deployment(self, tenant: str, deployment_id: str) -> Row | None: ...

    async def stages(self, deployment_id: str) -> list[Row]: ...

    async def deployments(
        self,
        tenant: str,
        *,
        app: str | None,
        status: str | None,
        namespace: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]: ...


class DeploymentCounts(Protocol):
    """What deploy admission counts, from the read model."""

    async def active_deployments(self, statuses: tuple[str, ...]) -> dict[str, str]: ...

    async def known_deployments(self, ids: list[str]) -> set[str]: ...


@runtime_checkable
class ConnectionRows(Protocol):
    """The read model's connections (no secrets)."""

    async def connection(self, tenant: str, connection_id: str, kind: str) -> Row | None: ...

    async def connections(self, tenant: str) -> list[Row]: ...


class TokenRows(Protocol):
    async def token(self, token_hash: str) -> Row | None: ...


class OpsEvents(Protocol):
    """What ops requests read from the event store (authoritative, never lagging)."""

    async def read_first(self, subject: str) -> Recorded[Any] | None: ...

    async def read_last(self, subject: str) -> Recorded[Any] | None: ...

    async def read(self, subject: str) -> list[Recorded[Any]]: ...

    async def wait_for(
        self, subject: str, wanted: Callable[[Recorded[Any]], bool], within_s: float
    ) -> Recorded[Any] | None:
        """The first event of ``subject`` (history, then live) that is ``wanted``;
        ``None`` if none was within ``within_s`` seconds."""
        ...


class OpsRows(Protocol):
    """The read model's apps and ops actions."""

    async def app_namespaces(self, tenant: str, app: str) -> list[str]:
        """The namespaces where ``tenant`` owns an app named ``app``."""
        ...

    async def ops_action(self, tenant: str, app: str, action_id: str) -> Row | None: ...
