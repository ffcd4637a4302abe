"""What the people commands share: the gateway's address and key, one way to run a call.

These commands (deploy, status, logs, cancel, rollback, scale, restart) talk to the
gateway's HTTP API through :mod:`flightdeck.client`, never to NATS, so they work
from any machine that can reach the gateway with a key.

Where the gateway is: ``FLIGHTDECK_URL``, else the gateway's own settings
(``FLIGHTDECK_GATEWAY__HOST``/``PORT``: the embedded default, ``127.0.0.1:8080``).
The key: ``FLIGHTDECK_TOKEN``, else the dev key ``flightdeck up`` keeps in the
state dir (``.flightdeck/dev-token``).
"""

from __future__ import annotations

import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer

from flightdeck.cli.output import fail
from flightdeck.client import TOKEN_ENV, URL_ENV, Flightdeck, FlightdeckError
from flightdeck.runtime import eventloop
from flightdeck.runtime.settings import ConfigError, load_section, load_settings

T = TypeVar("T")
FORMATS = ("table", "json")
EXIT_REFUSED = 1
EXIT_USAGE = 2
INTERRUPTED = 130

FormatOption = typer.Option("--format", help="table (for people) or json (one object per line).")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise fail(f"--format must be table or json, not {fmt!r}", EXIT_USAGE)
    return fmt


def gateway_url() -> str:
    if url := os.environ.get(URL_ENV, "").strip():
        return url
    from flightdeck.gateway.config import GatewayConfig

    try:
        config = load_section(GatewayConfig)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    return f"http://{host}:{config.port}"


def api_key() -> str:
    if token := os.environ.get(TOKEN_ENV, "").strip():
        return token
    try:
        state = load_settings().state_dir
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    dev = state / "dev-token"
    if dev.is_file():
        return dev.read_text().strip()
    raise fail(
        f"no API key: set {TOKEN_ENV} (flightdeck tokens create …), or run `./dev up` "
        f"here for the dev key ({dev} does not exist)",
        EXIT_USAGE,
    )


def connect() -> Flightdeck:
    """A client of the gateway this CLI is pointed at (see the module's docstring)."""
    return Flightdeck(gateway_url(), api_key())


def run(call: Coroutine[Any, Any, T]) -> T:
    """Run a client call; a refusal is one line on stderr and exit 1, Ctrl-C exit 130."""
    try:
        return eventloop.run(call)
    except FlightdeckError as exc:
        raise fail(
            f"{exc.code}: {exc.message}" if exc.message else exc.code, EXIT_REFUSED
        ) from None
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED) from None
