"""The ``flightdeck`` command line: one entry point, one sub-command per job."""

from __future__ import annotations

import typer
from rich.console import Console

from flightdeck.runtime import eventloop
from flightdeck.runtime.settings import ConfigError, load_settings

app = typer.Typer(
    name="flightdeck",
    help="Flightdeck: follow every deployment from registry to traffic.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def up(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide the services' own log lines."),
) -> None:
    """Start NATS and every service on this machine; Ctrl-C stops them all."""
    from flightdeck.cli.up import run_up

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    raise typer.Exit(eventloop.run(run_up(settings, console, quiet=quiet)))


@app.command()
def version() -> None:
    """Print Flightdeck's version."""
    from flightdeck.runtime.service import VERSION

    console.print(f"flightdeck {VERSION}")


def main() -> None:
    app()
