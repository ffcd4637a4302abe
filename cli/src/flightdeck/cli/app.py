"""The ``flightdeck`` command line: one entry point, one module per command."""

from __future__ import annotations

import typer

from flightdeck.cli import (
    asyncapi,
    configuration,
    projection,
    provisioning,
    replay,
    rotation,
    tenants,
    tokens,
    up,
)
from flightdeck.cli.output import console
from flightdeck.runtime.logconfig import configure_logging

app = typer.Typer(
    name="flightdeck",
    help="Flightdeck: follow every deployment from registry to traffic.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _quiet_libraries() -> None:
    """Flightdeck: follow every deployment from registry to traffic."""
    # Before every command, however it is invoked (the console script or in-process):
    # library chatter stays out of command output, on stderr and at warning level.
    configure_logging("cli", "warning")


@app.command()
def version() -> None:
    """Print Flightdeck's version."""
    from flightdeck.runtime.service import VERSION

    console.print(f"flightdeck {VERSION}")


# Each command module adds its commands here (def register(app) -> None).
for module in (
    up,
    replay,
    projection,
    tokens,
    provisioning,
    tenants,
    rotation,
    configuration,
    asyncapi,
):
    module.register(app)


def main() -> None:
    app()
