"""The ``flightdeck`` command line: one entry point, one module per command."""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click

from flightdeck.cli import (
    applogs,
    asyncapi,
    configuration,
    deploying,
    images,
    ops,
    projection,
    provisioning,
    replay,
    rotation,
    tenants,
    tokens,
    up,
)
from flightdeck.cli.output import console, fail
from flightdeck.runtime.logconfig import configure_logging

app = typer.Typer(
    name="flightdeck",
    help="Flightdeck: follow every deployment from registry to traffic.",
    no_args_is_help=True,
    add_completion=True,
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
    deploying,
    applogs,
    ops,
    images,
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
    """The console script: a usage error is one line on stderr and exit 2, like every
    other refusal (click would draw a box around it)."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        code = exc.exit_code
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "flightdeck"
        fail(f"{exc.format_message()} (see: {command} --help)", exc.exit_code)
        code = exc.exit_code
    except typer.Abort:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
