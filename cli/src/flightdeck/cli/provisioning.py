"""What only the NATS admin prepares, before any service starts (ADR 0013).

Services hold no stream-admin rights: whoever may create or update a stream
may also make it republish into any subject, around every permission. So the
admin creates the streams and each service's KV buckets, registers the dev API
key, and generates the embedded server's users. ``flightdeck up`` does all of
it; ``flightdeck nats provision`` does the streams and buckets for a server run
elsewhere (with ``FLIGHTDECK_NATS__CREDS`` naming admin credentials).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import typer

from flightdeck.cli.connect import connected, settings_or_exit
from flightdeck.cli.output import console
from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.apikeys import hash_api_key
from flightdeck.events.audit import ApiTokenCreated
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.runtime.nats_credentials import NatsCredentials
from flightdeck.runtime.nats_permissions import ADMIN, BucketSpec, Permissions, users
from flightdeck.runtime.settings import Settings, load_section


def service_buckets() -> dict[str, list[BucketSpec]]:
    """Each service's KV buckets, named and timed by its own settings."""
    from flightdeck.k8s_watcher.config import WatcherSettings
    from flightdeck.log_relay.config import RelaySettings

    watcher = load_section(WatcherSettings)
    relay = load_section(RelaySettings)
    return {
        "k8s-watcher": [BucketSpec(watcher.lease_bucket, watcher.lease_ttl_s)],
        "log-relay": [
            BucketSpec(relay.lease_bucket, relay.lease_ttl_s),
            BucketSpec(relay.cursor_bucket),
            BucketSpec(relay.rules_bucket),
        ],
    }


def nats_users() -> dict[str, Permissions]:
    """Every user of the embedded server, with the buckets this installation uses."""
    return users(service_buckets())


def embedded_credentials(settings: Settings) -> NatsCredentials:
    """The embedded server's users in the state dir: seeds kept, server config rewritten."""
    return NatsCredentials(settings.nats_credentials_dir).ensure(nats_users())


async def provision(
    store: EventStore,
    buckets: Buckets,
    settings: Settings,
    specs: Mapping[str, Sequence[BucketSpec]],
) -> None:
    """Streams, then every service's buckets (both connected as admin)."""
    from flightdeck.events import declare

    await store.ensure_streams(declare(settings.streams.to_stream_settings()))
    for bucket_specs in specs.values():
        for bucket in bucket_specs:
            await buckets.ensure(
                bucket.name, ttl_s=bucket.ttl_s, replicas=settings.streams.replicas
            )


async def register_dev_token(store: EventStore, token: str, tenant: str) -> None:
    """Register the embedded default's admin API key once (its hash, as ``ApiTokenCreated``)."""
    digest = hash_api_key(token)
    known = await store.read(subjects.access(tenant))
    if any(isinstance(r.event, ApiTokenCreated) and r.event.token_hash == digest for r in known):
        return
    event = ApiTokenCreated(
        token_id=new_id(), tenant=tenant, name="dev", scopes=["admin"], token_hash=digest
    )
    await store.append(subjects.access(tenant), [event], cause=Cause.root("user:flightdeck-up"))


async def _provision() -> None:
    settings = settings_or_exit()
    async with connected(settings, user=ADMIN) as (store, buckets):
        await provision(store, buckets, settings, service_buckets())


def register(app: typer.Typer) -> None:
    nats_app = typer.Typer(help="The NATS server Flightdeck uses.", no_args_is_help=True)

    @nats_app.command("provision")
    def provision_command() -> None:
        """Create or update the streams and the services' KV buckets (admin credentials)."""
        asyncio.run(_provision())
        console.print("[green]✔[/] streams and buckets in place")

    app.add_typer(nats_app, name="nats")
