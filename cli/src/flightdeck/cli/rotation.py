"""``flightdeck secrets rotate``: re-seal every stored connection under the current key.

Run it once every service has the new key as ``FLIGHTDECK_SECRETS__KEY`` and
the old one in ``FLIGHTDECK_SECRETS__KEYS``. Each connection whose secret is
sealed under another key is opened with the ring and sealed again under the
current key, recorded as a ``ConnectionResealed`` event on its tenant's
``fd.evt.conn`` subject (readers take the latest), so nothing is rewritten and
the history shows when it happened. Running it again re-seals only what is
left (say, a connection made meanwhile by a gateway still on the old key);
once it reports nothing left, the old key can be removed (ADR 0015).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import typer

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console, fail
from flightdeck.events import Cause, subjects
from flightdeck.events.audit import ConnectionResealed
from flightdeck.events.connections import read_connections, sealed_secret
from flightdeck.eventstore import EventStore
from flightdeck.runtime import eventloop
from flightdeck.runtime.sealing import (
    KEY_VARIABLE,
    RING_VARIABLE,
    Sealer,
    SecretError,
    SecretsSettings,
    connection_binding,
)
from flightdeck.runtime.settings import ConfigError, load_section

_APPEND_AT_ONCE = 500  # re-seals per atomic append (the server takes up to 1,000)


@dataclass
class Rotation:
    """What a rotation did: re-sealed, already current, and what would not open."""

    resealed: list[str] = field(default_factory=list)
    current: int = 0
    unopenable: list[tuple[str, str]] = field(default_factory=list)


async def rotate(store: EventStore, sealer: Sealer, actor: str = "user:cli") -> Rotation:
    """Re-seal under ``sealer``'s current key every connection sealed under another."""
    outcome = Rotation()
    pending: dict[str, list[ConnectionResealed]] = defaultdict(list)
    for connection in (await read_connections(store)).values():
        sealed = sealed_secret(connection)
        if sealer.is_current(sealed):
            outcome.current += 1
            continue
        binding = connection_binding(connection.tenant, connection.connection_id)
        try:
            secret = sealer.open(sealed, binding)
        except SecretError as exc:
            outcome.unopenable.append((connection.connection_id, str(exc)))
            continue
        pending[connection.tenant].append(
            ConnectionResealed(
                connection_id=connection.connection_id,
                tenant=connection.tenant,
                secret=sealer.seal(secret, binding),
            )
        )
    for tenant, events in pending.items():
        for start in range(0, len(events), _APPEND_AT_ONCE):
            batch = events[start : start + _APPEND_AT_ONCE]
            await store.append(subjects.connections(tenant), batch, cause=Cause.root(actor))
            outcome.resealed += [e.connection_id for e in batch]
    return outcome


def _secrets(state_dir: Path) -> SecretsSettings:
    """The configured keys; on the embedded default, the key ``flightdeck up`` keeps."""
    try:
        settings = load_section(SecretsSettings)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    kept = state_dir / "secrets.key"
    if not settings.key and kept.is_file():
        settings = settings.model_copy(update={"key": kept.read_text().strip()})
    return settings


async def _rotate() -> tuple[Rotation, str]:
    settings = settings_or_exit()
    try:
        sealer = Sealer.from_settings(_secrets(settings.state_dir))
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    async with event_store(settings) as store:
        return await rotate(store, sealer), sealer.key_id


def register(app: typer.Typer) -> None:
    secrets = typer.Typer(help="Manage the keys that seal stored secrets.", no_args_is_help=True)

    @secrets.command("rotate")
    def rotate_command() -> None:
        """Re-seal every stored connection under the current key (FLIGHTDECK_SECRETS__KEY),
        opening them with the old ones (FLIGHTDECK_SECRETS__KEYS)."""
        outcome, key_id = eventloop.run(_rotate())
        console.print(
            f"re-sealed {len(outcome.resealed)} connection(s) under key {key_id}; "
            f"{outcome.current} already under it"
        )
        if outcome.unopenable:
            detail = "; ".join(f"{cid}: {why}" for cid, why in outcome.unopenable)
            raise fail(
                f"{len(outcome.unopenable)} connection(s) could not be opened ({detail}): add "
                f"their key to {RING_VARIABLE} (the current one goes in {KEY_VARIABLE}) "
                "and run again; keep the old keys until then"
            )
        console.print("nothing is left under an old key: the old keys may be removed")

    app.add_typer(secrets, name="secrets")
