"""``flightdeck up``: the whole system on one machine, until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal

import typer
from rich.console import Console

from flightdeck.cli.output import console, fail
from flightdeck.cli.readiness import wait_ready
from flightdeck.cli.services import SERVICES
from flightdeck.cli.supervisor import Supervisor
from flightdeck.events import Codec, EventStore, declare
from flightdeck.runtime import eventloop
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.settings import ConfigError, Settings, load_settings


async def run_up(settings: Settings, console: Console, *, quiet: bool) -> int:
    """Start NATS and every service, report them ready, run until a stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server: NatsServer | None = None
    url = settings.nats_url
    if url is None:
        state = settings.state_dir.resolve()
        server = NatsServer(
            state / "nats", port=settings.nats_port, log_file=state / "logs" / "nats.log"
        )
        with console.status("starting nats-server (JetStream)…"):
            await server.start()
        url = server.url
        console.print(f"[green]✔[/] nats-server ready at [bold]{url}[/] (store {state / 'nats'})")
    else:
        console.print(f"[green]✔[/] using NATS at [bold]{url}[/] (FLIGHTDECK_NATS_URL)")

    supervisor = Supervisor(console, {**os.environ, "FLIGHTDECK_NATS_URL": url}, echo=not quiet)
    nc = await connect(url, "flightdeck-cli")
    try:
        await EventStore(nc, Codec("/flightdeck/cli")).ensure_streams(
            declare(settings.streams.to_stream_settings())
        )
        for spec in SERVICES:
            await supervisor.start(spec)
        for spec in SERVICES:
            took = await wait_ready(nc, spec.name)
            console.print(f"[green]✔[/] {spec.name} ready ({took:.1f}s)")
        console.print("[bold green]All services ready.[/] Press Ctrl-C to stop.")
        await stop.wait()
        console.print("stopping…")
        return 0
    except TimeoutError as exc:
        console.print(f"[bold red]✗ {exc}[/]")
        return 1
    finally:
        await nc.close()
        await supervisor.stop_all()
        if server is not None:
            server.stop()
        console.print("[green]✔[/] stopped cleanly")


def up(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide the services' own log lines."),
) -> None:
    """Start NATS and every service on this machine; Ctrl-C stops them all."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    raise typer.Exit(eventloop.run(run_up(settings, console, quiet=quiet)))


def register(app: typer.Typer) -> None:
    app.command()(up)
