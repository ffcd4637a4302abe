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
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console
from flightdeck.events import Cause, EventStore, new_id, subjects
from flightdeck.events.apikeys import hash_api_key
from flightdeck.events.audit import ApiTokenCreated
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


async def ensure_bucket(js: JetStreamContext, bucket: BucketSpec, replicas: int) -> None:
    """Create the KV bucket, or bring its lifetime and direct reads to ``bucket``."""
    name = f"KV_{bucket.name}"
    try:
        config = (await js.stream_info(name)).config
    except NotFoundError:
        await js.create_key_value(
            bucket=bucket.name, ttl=bucket.ttl_s, history=1, direct=True, replicas=replicas
        )
        return
    ttl = bucket.ttl_s or 0.0
    if (config.max_age or 0.0) != ttl or not config.allow_direct:
        window = min(120.0, ttl) if ttl else 120.0
        await js.update_stream(
            config.evolve(max_age=ttl, allow_direct=True, duplicate_window=window)
        )


async def provision(
    store: EventStore, settings: Settings, buckets: Mapping[str, Sequence[BucketSpec]]
) -> None:
    """Streams, then every service's buckets (``store`` must be connected as admin)."""
    from flightdeck.events import declare

    await store.ensure_streams(declare(settings.streams.to_stream_settings()))
    js = store.nc.jetstream()
    for specs in buckets.values():
        for bucket in specs:
            await ensure_bucket(js, bucket, settings.streams.replicas)


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
    async with event_store(settings, user=ADMIN) as store:
        await provision(store, settings, service_buckets())


def register(app: typer.Typer) -> None:
    nats_app = typer.Typer(help="The NATS server Flightdeck uses.", no_args_is_help=True)

    @nats_app.command("provision")
    def provision_command() -> None:
        """Create or update the streams and the services' KV buckets (admin credentials)."""
        asyncio.run(_provision())
        console.print("[green]✔[/] streams and buckets in place")

    app.add_typer(nats_app, name="nats")
