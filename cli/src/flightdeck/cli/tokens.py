"""``flightdeck tokens create|list|revoke``: API keys for the gateway.

A key is random and shown once; only its SHA-256 goes into the
``ApiTokenCreated`` event on ``fd.evt.access.<tenant>`` (the read model's
``api_tokens`` is projected from it), so whoever reads the event store cannot
use the key. The same rules as the gateway's (``flightdeck.gateway.domain.auth``):
the ``fdk_`` prefix, SHA-256 hex. ``list`` and ``revoke`` read the same events,
not the read model, so they work wherever NATS is reachable; a revocation is an
``ApiTokenRevoked`` event that every gateway applies as it arrives (ADR 0015).
Only the NATS admin credentials may write ``fd.evt.access.>`` (ADR 0013).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
import typer
from rich.table import Table

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console, fail
from flightdeck.events import Cause, Recorded, new_id, streams, subjects
from flightdeck.events.apikeys import hash_api_key, new_api_key
from flightdeck.events.audit import ApiTokenCreated, ApiTokenRevoked
from flightdeck.eventstore import EventStore
from flightdeck.runtime import eventloop
from flightdeck.runtime.nats_permissions import ADMIN

SCOPES = ("read", "deploy", "ops", "admin")
FORMATS = ("table", "json")


class TokenView(msgspec.Struct, frozen=True, kw_only=True):
    """What ``tokens list`` shows of a key: never the key, never its hash."""

    id: str
    tenant: str
    name: str
    scopes: list[str]
    created: datetime
    expires: datetime | None
    revoked: datetime | None


def fold(events: list[Recorded[Any]]) -> dict[str, TokenView]:
    """Every key in ``events`` (in stream order) as it stands now, by id."""
    out: dict[str, TokenView] = {}
    for recorded in events:
        e = recorded.event
        if isinstance(e, ApiTokenCreated):
            out[e.token_id] = TokenView(
                id=e.token_id,
                tenant=e.tenant,
                name=e.name,
                scopes=list(e.scopes),
                created=recorded.time,
                expires=e.expires_at,
                revoked=None,
            )
        elif isinstance(e, ApiTokenRevoked) and e.token_id in out:
            view = out[e.token_id]
            if view.revoked is None and view.tenant == e.tenant:
                out[e.token_id] = msgspec.structs.replace(view, revoked=recorded.time)
    return out


async def _read(store: EventStore, tenant: str | None) -> dict[str, TokenView]:
    subject = subjects.access(tenant) if tenant else subjects.ALL_ACCESS
    events: list[Recorded[Any]] = []
    async for chunk in store.read_chunks(streams.AUDIT, subject):
        events.extend(chunk.events)
    return fold(events)


async def _create(tenant: str, scopes: list[str], name: str, days: int | None) -> tuple[str, str]:
    key = new_api_key()
    expires = datetime.now(UTC) + timedelta(days=days) if days is not None else None
    event = ApiTokenCreated(
        token_id=new_id(),
        tenant=tenant,
        name=name,
        scopes=scopes,
        token_hash=hash_api_key(key),
        expires_at=expires,
    )
    async with event_store(settings_or_exit(), user=ADMIN) as store:
        await store.append(subjects.access(tenant), [event], cause=Cause.root("user:cli"))
    return key, event.token_id


async def _list(tenant: str | None) -> list[TokenView]:
    async with event_store(settings_or_exit()) as store:
        found = await _read(store, tenant)
    return sorted(found.values(), key=lambda v: (v.tenant, v.created))


async def _revoke(token_id: str) -> tuple[TokenView, bool]:
    """Revoke ``token_id``; the key as it was, and whether this call revoked it."""
    async with event_store(settings_or_exit()) as store:
        view = (await _read(store, None)).get(token_id)
        if view is None:
            raise fail(f"no API key with id {token_id!r} (see: flightdeck tokens list)")
        if view.revoked is not None:
            return view, False
        event = ApiTokenRevoked(token_id=token_id, tenant=view.tenant)
        await store.append(subjects.access(view.tenant), [event], cause=Cause.root("user:cli"))
    return view, True


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _table(views: list[TokenView]) -> Table:
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "tenant", "name", "scopes", "created", "expires", "revoked"):
        table.add_column(column, overflow="fold")
    for v in views:
        table.add_row(
            v.id,
            v.tenant,
            v.name,
            ", ".join(v.scopes),
            _when(v.created),
            _when(v.expires),
            _when(v.revoked),
        )
    return table


def register(app: typer.Typer) -> None:
    tokens = typer.Typer(help="Manage API keys for the gateway.", no_args_is_help=True)

    @tokens.command("create")
    def create(
        tenant: Annotated[str, typer.Option(help="The tenant the key belongs to.")],
        scope: Annotated[list[str], typer.Option(help="read, deploy, ops or admin (repeatable).")],
        name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "cli",
        expires_in_days: Annotated[
            int | None,
            typer.Option(help="Days until the key expires, at least 1 (default: never)."),
        ] = None,
    ) -> None:
        """Create an API key and print it once; only its hash is stored."""
        unknown = sorted(set(scope) - set(SCOPES))
        if unknown:
            raise fail(f"unknown scope {', '.join(unknown)}: use {', '.join(SCOPES)}")
        if not tenant.strip():
            raise fail("--tenant must not be empty")
        if expires_in_days is not None and expires_in_days < 1:
            raise fail(
                f"--expires-in-days must be at least 1, not {expires_in_days} "
                "(leave it out for a key that does not expire)",
                2,
            )
        key, token_id = eventloop.run(_create(tenant, sorted(set(scope)), name, expires_in_days))
        console.print(f"token {token_id} for tenant {tenant} ({', '.join(sorted(set(scope)))})")
        console.print("store it now, it is not shown again:")
        console.print(key, highlight=False, soft_wrap=True)

    @tokens.command("list")
    def list_(
        tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
        fmt: Annotated[
            str, typer.Option("--format", "-f", help="table, or json (one object per line).")
        ] = "table",
    ) -> None:
        """List API keys (never the keys themselves): id, tenant, name, scopes, dates."""
        if fmt not in FORMATS:
            raise fail(f"--format: must be table or json, not {fmt!r}", 2)
        views = eventloop.run(_list(tenant))
        if fmt == "json":
            for view in views:
                typer.echo(msgspec.json.encode(view).decode())
        else:
            console.print(_table(views))

    @tokens.command("revoke")
    def revoke(
        token_id: Annotated[str, typer.Argument(help="The key's id (from tokens list).")],
    ) -> None:
        """Revoke an API key: every gateway refuses it at once and ends its open streams."""
        view, revoked_now = eventloop.run(_revoke(token_id))
        if revoked_now:
            console.print(f"revoked token {view.id} of tenant {view.tenant} ({view.name})")
        else:
            console.print(f"token {view.id} was already revoked at {_when(view.revoked)}")

    app.add_typer(tokens, name="tokens")
