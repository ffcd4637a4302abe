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

from flightdeck.cli.provisioning import register_dev_token
from flightdeck.cli.readiness import wait_http
from flightdeck.events import Codec
from flightdeck.events.apikeys import new_api_key
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
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
    """The gateway as its own process (the real entry point, dev mode), and a dev key
    registered for it the way ``flightdeck up`` does.

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
        """Register the dev key, then wait until the gateway answers (its stderr is drained)."""
        token = new_api_key()
        nc = await connect(self.env["FLIGHTDECK_NATS__URL"], "bench-admin")
        try:
            await register_dev_token(
                JetStreamEventStore(nc, Codec("/flightdeck/bench")), token, "dev"
            )
        finally:
            await nc.close()
        assert self.proc.stderr is not None
        asyncio.get_running_loop().run_in_executor(None, self.proc.stderr.read)
        await wait_http(f"{self.url}/health")
        self.token = token

    def stop(self) -> None:
        processes.stop(self.proc, timeout=15)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
