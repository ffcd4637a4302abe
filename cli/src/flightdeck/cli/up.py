"""``flightdeck up``: the whole system on one machine, until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.console import Console

from flightdeck.cli.demo import run_demo
from flightdeck.cli.fresh import start_fresh
from flightdeck.cli.output import console, fail
from flightdeck.cli.supervisor import Supervisor
from flightdeck.cli.system import running_system
from flightdeck.runtime import eventloop
from flightdeck.runtime.settings import ConfigError, Settings, load_section, load_settings
from flightdeck.runtime.tenancy import TenantSettings

EXIT_RESTARTED = 3
"""``flightdeck up`` ran and stopped, but had to restart (or kill) something meanwhile."""


async def run_up(
    settings: Settings,
    console: Console,
    *,
    quiet: bool,
    sandbox: bool,
    speed: float,
    demo: bool = False,
) -> int:
    """Start everything, report it ready, run until SIGINT/SIGTERM, stop it all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    supervisor: Supervisor | None = None
    try:
        async with running_system(settings, console, sandbox=sandbox, speed=speed, quiet=quiet) as (
            endpoints,
            supervisor,
        ):
            console.print("[bold green]All services ready.[/] Press Ctrl-C to stop.")
            console.print(f"  gateway:    [bold]{endpoints.gateway_url}[/]  (API at /schema)")
            if endpoints.dev_token:
                console.print(f"  dev token:  [bold]{endpoints.dev_token}[/]  (tenant dev, admin)")
            if endpoints.kubeconfig is not None:
                console.print(f"  kubeconfig: [bold]{endpoints.kubeconfig}[/]")
            if demo:
                demo_run = asyncio.create_task(run_demo(endpoints, console))
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait({demo_run, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if demo_run.done():
                    code = demo_run.result()
                    console.print(
                        "The system keeps running: try the API, kubectl, or another deploy. "
                        "Ctrl-C stops it."
                    )
                else:
                    demo_run.cancel()
                stopped.cancel()
            await stop.wait()
            console.print("stopping…")
    except (TimeoutError, ConfigError) as exc:
        console.print(f"[bold red]✗ {exc}[/]")
        console.print("stopped")
        return 1
    outcome = supervisor.outcome() if supervisor is not None else None
    if outcome is None or outcome.clean:
        console.print("[green]✔[/] stopped cleanly")
        return code
    console.print(f"[bold yellow]⚠ {outcome.summary()}[/]")
    return code or EXIT_RESTARTED


def up(
    demo: bool = typer.Option(
        False, "--demo", help="Run a sample deployment through the sandbox and show it live."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide the services' own log lines."),
    no_sandbox: bool = typer.Option(
        False, "--no-sandbox", help="Use the real cluster (kubeconfig/in-cluster) and AWS."
    ),
    speed: float = typer.Option(
        1.0, min=0.1, help="Sandbox clock speed: simulated seconds per real second."
    ),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="Start from nothing: delete the event history, read model and sandbox cluster "
        "in the state dir first (asks; keys are kept).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before --fresh deletes."),
) -> None:
    """Start NATS, the sandbox and every service on this machine; Ctrl-C stops them all.

    Any of them that dies is restarted with backoff (nats-server on the same port
    and store). Exit code: 0 stopped cleanly; 1 could not start, or the demo
    deployment failed; 2 bad settings; 3 stopped, but something had to be
    restarted (or killed at stop) meanwhile: the last line says what.
    """
    try:
        settings = load_settings()
        load_section(TenantSettings)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    if demo and no_sandbox:
        raise fail("--demo runs against the sandbox; drop --no-sandbox", 2)
    if yes and not fresh:
        raise fail("--yes only confirms --fresh", 2)
    if fresh:
        start_fresh(settings, yes=yes)
    code = eventloop.run(
        run_up(
            settings, console, quiet=quiet or demo, sandbox=not no_sandbox, speed=speed, demo=demo
        )
    )
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(up)
