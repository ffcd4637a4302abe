"""The whole system as a user runs it: ``flightdeck up`` in a subprocess.

Either the test owns the nats-server (``nats``: it can SIGKILL and restart it
itself) or ``flightdeck up`` starts and supervises its embedded one
(``nats=None``, on a free port: SIGKILL it with :meth:`System.kill_nats` and
``flightdeck up`` restarts it). ``flightdeck up`` starts the sandbox and every
service as processes and restarts a killed one. Everything is found again
through the state dir.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.processes import free_port
from flightdeck.runtime.settings import NATS_CREDENTIALS_DIR, NatsConfig
from tests.support.processes import processes_mentioning

# Short timers: the production code paths, sooner.
FAST = {
    "FLIGHTDECK_ORCHESTRATOR__SWITCH_DELAY_S": "0.5",
    "FLIGHTDECK_ORCHESTRATOR__RESUME_AFTER_S": "2",
    "FLIGHTDECK_ORCHESTRATOR__SCAN_INTERVAL_S": "1",
    "FLIGHTDECK_ORCHESTRATOR__RETRY_AFTER_S": "0.3",
    "FLIGHTDECK_ORCHESTRATOR__ACK_WAIT_S": "5",
    "FLIGHTDECK_ECR_POLLER__INTERVAL_S": "0.3",
    "FLIGHTDECK_ECR_POLLER__ACK_WAIT_S": "5",
    "FLIGHTDECK_PROBER__INTERVAL_SCALE": "0.2",
    "FLIGHTDECK_K8S_WATCHER__METRICS_INTERVAL_S": "3600",
    "FLIGHTDECK_K8S_WATCHER__LEASE_TTL_S": "5",
    "FLIGHTDECK_GATEWAY__CLOSE_AFTER_DONE_S": "0.5",
    # the suite's tests share one dev tenant, some leaving deployments to time out
    "FLIGHTDECK_GATEWAY__DEPLOY_CONCURRENCY_PER_TENANT": "100",
}
# The dev tenant's namespace, and the cross-tenant suite's tenant B's (test_cross_tenant.py).
WATCHED = "default,team-b"
MODULES = {
    "orchestrator": "flightdeck.orchestrator",
    "gateway": "flightdeck.gateway",
    "k8s-watcher": "flightdeck.k8s_watcher",
    "ecr-poller": "flightdeck.ecr_poller",
    "prober": "flightdeck.prober",
    "log-relay": "flightdeck.log_relay",
}


@dataclass
class System:
    state: Path
    nats: NatsServer | None
    proc: asyncio.subprocess.Process | None = None
    gateway_url: str = ""
    token: str = ""
    sandbox: dict[str, Any] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    nats_port: int = field(default_factory=free_port)
    overrides: dict[str, str] = field(default_factory=dict)
    """Settings of this system beyond :data:`FAST` (they win), e.g. where GitHub answers."""
    _reader: asyncio.Task[None] | None = None

    @property
    def nats_url(self) -> str:
        return self.nats.url if self.nats is not None else f"nats://127.0.0.1:{self.nats_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "FLIGHTDECK_STATE_DIR": str(self.state)}
        if self.nats is not None:
            env["FLIGHTDECK_NATS__URL"] = self.nats.url
        else:  # flightdeck up starts (and supervises) its own
            env.pop("FLIGHTDECK_NATS__URL", None)
            env["FLIGHTDECK_NATS__PORT"] = str(self.nats_port)
        return env

    async def start(self, speed: float = 10.0, *args: str) -> System:
        """``flightdeck up --quiet --speed <speed> [args]``, until every service is ready."""
        port = free_port()
        env = {
            **self.env,
            **FAST,
            **self.overrides,
            "FLIGHTDECK_GATEWAY__PORT": str(port),
            "FLIGHTDECK_K8S__NAMESPACES": WATCHED,
            "COLUMNS": "200",
        }
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "flightdeck.cli",
            "up",
            "--quiet",
            "--speed",
            str(speed),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read(ready))
        await asyncio.wait_for(ready.wait(), 180)
        self.gateway_url = f"http://127.0.0.1:{port}"
        self.token = (self.state / "dev-token").read_text().strip()
        self.sandbox = json.loads((self.state / "sandbox" / "ready.json").read_text())
        return self

    async def _read(self, ready: asyncio.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.output.append(raw.decode(errors="replace").rstrip())
            if "All services ready" in self.output[-1]:
                ready.set()
        if not ready.is_set():
            raise AssertionError("flightdeck up ended early:\n" + "\n".join(self.output))

    def nats_pids(self) -> list[int]:
        """The embedded nats-server(s) ``flightdeck up`` runs on this system's store."""
        store = str(self.state / "nats").encode()
        mine = set(processes_mentioning(str(self.state)))
        return [pid for pid in mine if b"nats-server\x00" in (c := _cmdline(pid)) and store in c]

    def kill_nats(self) -> int:
        """SIGKILL the embedded nats-server; ``flightdeck up`` restarts it. Returns its pid."""
        (pid,) = self.nats_pids()
        os.kill(pid, signal.SIGKILL)
        return pid

    async def stop(self) -> int:
        """Ctrl-C, as a user would; the exit code of ``flightdeck up``."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        return self.proc.returncode or 0

    def nats_config(self, user: str) -> NatsConfig:
        """NATS as ``user`` of the generated ones (``admin`` to look at everything): the
        test's own server's, or those ``flightdeck up`` generated in the state dir."""
        if self.nats is not None:
            assert self.nats.auth is not None
            return NatsConfig(url=self.nats.url, creds=self.nats.auth.seed(user))
        return NatsConfig(url=self.nats_url, creds=self.state / NATS_CREDENTIALS_DIR / f"{user}.nk")

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        """An API client with the dev tenant's key, or ``key``."""
        return httpx.AsyncClient(
            base_url=self.gateway_url,
            headers={"Authorization": f"Bearer {key or self.token}"},
            timeout=30,
        )

    async def push_image(self, repository: str, tag: str, delay_s: float = 0.0) -> None:
        async with httpx.AsyncClient(base_url=self.sandbox["k8s_url"], timeout=30) as http:
            response = await http.post(
                "/sandbox/v1/images",
                json={"repository": repository, "tag": tag, "delay_s": delay_s},
            )
            response.raise_for_status()

    def pids(self, service: str) -> list[int]:
        """The running process(es) of ``service`` started by this system."""
        module = MODULES[service]
        mine = set(processes_mentioning(str(self.state)))
        return [pid for pid in mine if f"-m\x00{module}\x00".encode() in _cmdline(pid)]

    async def kill(self, service: str) -> int:
        """SIGKILL a service; ``flightdeck up`` restarts it. Returns the old pid."""
        (pid,) = self.pids(service)
        os.kill(pid, signal.SIGKILL)
        return pid


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() + b"\x00"
    except OSError:
        return b""
