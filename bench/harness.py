"""What every benchmark shares: a private nats-server, the gateway as a process, and a
results table."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flightdeck.runtime import processes
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


class GatewayProcess:
    """The gateway as its own process (the real entry point, dev mode), and its dev key.

    Args:
        env: the environment (NATS URL and the like).
        state: its state directory.
        settings: more gateway settings (``client_buffer="10000"``).
    """

    def __init__(self, env: dict[str, str], state: Path, **settings: str) -> None:
        self.port = processes.free_port("127.0.0.1")
        self.state = state
        self.env = {
            **env,
            "FLIGHTDECK_STATE_DIR": str(state),
            "FLIGHTDECK_GATEWAY__PORT": str(self.port),
            "FLIGHTDECK_GATEWAY__DEV_MODE": "true",
            **{f"FLIGHTDECK_GATEWAY__{k.upper()}": v for k, v in settings.items()},
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flightdeck.gateway"],
            env=self.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        """Until the gateway has printed its dev token (then its stderr is drained)."""
        assert self.proc.stderr is not None
        while not self.token:
            line = await asyncio.to_thread(self.proc.stderr.readline)
            if not line:
                raise RuntimeError("the gateway exited before printing its dev token")
            if "dev token" in line:
                self.token = line.rsplit(":", 1)[1].strip()
        asyncio.get_running_loop().run_in_executor(None, self.proc.stderr.read)

    def stop(self) -> None:
        processes.stop(self.proc, timeout=15)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
