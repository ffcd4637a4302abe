"""What every benchmark shares: a private nats-server and a results table."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flightdeck.runtime.nats_server import NatsServer

console = Console()


@contextlib.asynccontextmanager
async def private_nats() -> AsyncIterator[NatsServer]:
    """A fresh nats-server on a free port with a temporary file store."""
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as tmp:
        server = NatsServer(Path(tmp) / "store")
        await server.start()
        try:
            yield server
        finally:
            server.stop()


def report(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
