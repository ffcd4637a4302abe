"""``flightdeck tokens create``: an API key for the gateway, shown once, stored as a hash.

The key is random; only its SHA-256 goes into the ``ApiTokenCreated`` event on
``fd.evt.access.<tenant>`` (the read model's ``api_tokens`` is projected from
it), so whoever reads the event store cannot use the key. The same rules as the
gateway's (``flightdeck.gateway.domain.auth``): the ``fdk_`` prefix, SHA-256 hex.
Only the NATS admin credentials may write ``fd.evt.access.>`` (ADR 0013).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console, fail
from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.apikeys import hash_api_key, new_api_key
from flightdeck.events.audit import ApiTokenCreated
from flightdeck.runtime.nats_permissions import ADMIN

SCOPES = ("read", "deploy", "ops", "admin")


async def _create(tenant: str, scopes: list[str], name: str, days: int | None) -> tuple[str, str]:
    key = new_api_key()
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
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


def register(app: typer.Typer) -> None:
    tokens = typer.Typer(help="Manage API keys for the gateway.", no_args_is_help=True)

    @tokens.command("create")
    def create(
        tenant: Annotated[str, typer.Option(help="The tenant the key belongs to.")],
        scope: Annotated[list[str], typer.Option(help="read, deploy, ops or admin (repeatable).")],
        name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "cli",
        expires_in_days: Annotated[
            int | None, typer.Option(help="Days until the key expires (default: never).")
        ] = None,
    ) -> None:
        """Create an API key and print it once; only its hash is stored."""
        unknown = sorted(set(scope) - set(SCOPES))
        if unknown:
            raise fail(f"unknown scope {', '.join(unknown)}: use {', '.join(SCOPES)}")
        if not tenant.strip():
            raise fail("--tenant must not be empty")
        key, token_id = asyncio.run(_create(tenant, sorted(set(scope)), name, expires_in_days))
        console.print(f"token {token_id} for tenant {tenant} ({', '.join(sorted(set(scope)))})")
        console.print("store it now, it is not shown again:")
        console.print(key, highlight=False, soft_wrap=True)

    app.add_typer(tokens, name="tokens")
