"""``flightdeck replay <deployment-id>``: a deployment's events, in order, for audit;
``flightdeck replay --app APP``: who did what to an app (deployments and ops actions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import typer
from rich.table import Table

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console, fail
from flightdeck.cli.summaries import summarize
from flightdeck.events import Recorded, subjects
from flightdeck.events.apps import AppSlotClaimed
from flightdeck.eventstore import EventStore
from flightdeck.runtime import eventloop
from flightdeck.runtime.nats_permissions import CLI


def parse_time(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC), or a clear error."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise fail(
            f"{option}: not an ISO 8601 time: {text!r} (e.g. 2026-11-25T14:00:00Z)", 2
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def as_json(recorded: Recorded[Any]) -> bytes:
    return msgspec.json.encode(
        {
            "position": recorded.position,
            "time": recorded.time,
            "type": recorded.type,
            "id": recorded.id,
            "actor": recorded.actor,
            "correlationId": recorded.correlation_id,
            "causationId": recorded.causation_id,
            "subject": recorded.subject,
            "event": recorded.event,
        }
    )


def _table(title: str, events: list[Recorded[Any]]) -> Table:
    positions = {r.id: r.position for r in events}
    table = Table(title=title, title_justify="left")
    for column in ("time", "position", "type", "actor", "caused by", "summary"):
        table.add_column(column, overflow="fold")
    for r in events:
        cause = r.causation_id
        caused_by = f"#{positions[cause]}" if cause in positions else (cause or "")[:12]
        table.add_row(
            f"{r.time:%Y-%m-%d %H:%M:%S.%f}"[:-3],
            str(r.position),
            r.type,
            r.actor or "",
            caused_by,
            summarize(r.event),
        )
    return table


async def _app_events(store: EventStore, app: str) -> list[Recorded[Any]]:
    """An app's ops actions (every tenant's: the CLI reads as an operator), its slot
    events and each of its deployments' requests, in time order."""
    name = subjects.token(app)
    ops = await store.read(f"{subjects.EVENTS}.ops.*.{name}")
    slots = await store.read(f"{subjects.EVENTS}.app.*.{name}")
    requests = []
    for r in slots:
        if isinstance(r.event, AppSlotClaimed):
            first = await store.read_first(subjects.deployment(r.event.deployment_id))
            if first is not None:
                requests.append(first)
    return sorted([*ops, *slots, *requests], key=lambda r: (r.time, r.position))


async def _replay(
    deployment_id: str | None,
    app: str | None,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
) -> None:
    settings = settings_or_exit()
    async with event_store(settings, user=CLI, report_undecodable=True) as store:
        if app is not None:
            events, title = await _app_events(store, app), f"app {app}"
        else:
            assert deployment_id is not None
            events = await store.read(subjects.deployment(deployment_id))
            title = f"deployment {deployment_id}"
    if not events:
        raise fail(f"app {app!r} not found" if app else f"deployment {deployment_id!r} not found")
    chosen = [
        r
        for r in events
        if (since is None or r.time >= since) and (until is None or r.time <= until)
    ]
    if fmt == "json":
        for r in chosen:
            typer.echo(as_json(r).decode())
    else:
        console.print(_table(title, chosen))


def replay(
    deployment_id: str | None = typer.Argument(None, help="The deployment's id."),
    app: str | None = typer.Option(
        None, "--app", help="Instead: an app's deployments and ops actions, with who did them."
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, or json (one object per line)."
    ),
    since: str | None = typer.Option(None, help="Only events at or after this ISO 8601 time."),
    until: str | None = typer.Option(None, help="Only events at or before this ISO 8601 time."),
) -> None:
    """Print a deployment's (or, with --app, an app's) events in order: time, position,
    type, actor, cause, summary."""
    if fmt not in ("table", "json"):
        raise fail(f"--format: must be table or json, not {fmt!r}", 2)
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    if start and end and start > end:
        raise fail(f"--since ({since}) is after --until ({until})", 2)
    if app is not None:
        if deployment_id is not None:
            raise fail("give a deployment id or --app, not both", 2)
        if not app.strip():
            raise fail("--app: must not be empty", 2)
    elif deployment_id is None or not deployment_id.strip():
        raise fail("deployment id: must not be empty (or give --app APP)", 2)
    eventloop.run(_replay(deployment_id, app, fmt, start, end))


def register(app: typer.Typer) -> None:
    app.command()(replay)
