"""``flightdeck asyncapi``: the AsyncAPI 3.0 document of every NATS subject (ADR 0019).

Printed, or written to a file (``docs/asyncapi.json`` is kept current by a test);
the gateway serves the same document at ``/asyncapi.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from flightdeck.cli.output import fail
from flightdeck.runtime import asyncapi


def register(app: typer.Typer) -> None:
    @app.command("asyncapi")
    def asyncapi_command(
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Write the document here instead of printing it."),
        ] = None,
        server: Annotated[
            str, typer.Option("--server", help="The NATS URL the document names.")
        ] = asyncapi.DEFAULT_SERVER,
    ) -> None:
        """Print (or write) the AsyncAPI document: every subject published or consumed."""
        parts = urlsplit(server)
        if parts.scheme not in {"nats", "tls"} or not parts.hostname:
            raise fail(f"--server: expected nats://host:port or tls://host:port, got {server!r}", 2)
        text = asyncapi.render(server)
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text)
        except OSError as exc:
            raise fail(f"--output: cannot write {output}: {exc.strerror or exc}", 2) from None
        typer.echo(f"wrote {output}")
