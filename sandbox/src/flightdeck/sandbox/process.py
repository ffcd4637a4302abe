"""``Sandbox``: start the sandbox as a child process, wait until it answers, stop it.

The child is ``python -m flightdeck.sandbox`` bound to die with its parent
(``PR_SET_PDEATHSIG``), so even a killed test run leaves no orphan. The run
command and the tests share this one launcher.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from flightdeck.runtime import processes
from flightdeck.sandbox.config import SandboxConfig


class SandboxError(Exception):
    """The sandbox did not start, or refused a request."""


class SandboxFaults:
    """Fault injection through the sandbox's admin API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def drop_watches(self) -> int:
        """Close every open watch connection; clients see their stream end."""
        return int((await self._sandbox.admin("faults/drop-watches"))["dropped"])

    async def expire_resource_versions(self, drop_watches: bool = False) -> None:
        """Compact history: a watch from any resourceVersion seen so far gets 410 Expired.

        Args:
            drop_watches: also close every open watch in the same instant, so every
                watcher must resume from a version that is now too old.
        """
        await self._sandbox.admin("faults/expire-resource-versions", {"drop_watches": drop_watches})

    async def delay_api(
        self, seconds: float, for_s: float | None = None, count: int | None = None
    ) -> None:
        """Delay resource requests by ``seconds``, for a period and/or a number of calls."""
        await self._sandbox.admin(
            "faults/delay-api", {"seconds": seconds, "for_s": for_s, "count": count}
        )

    async def fail_api(
        self, status: int = 500, count: int | None = None, for_s: float | None = None
    ) -> None:
        """Answer resource requests with ``status`` (a Status body), N times and/or for a period."""
        await self._sandbox.admin(
            "faults/fail-api", {"status": status, "count": count, "for_s": for_s}
        )

    async def clear(self) -> None:
        await self._sandbox.admin("faults/clear")

    async def kill_pod(self, namespace: str, name: str) -> None:
        """Remove a pod at once, as a node failure would; its ReplicaSet replaces it."""
        await self._sandbox.admin("faults/kill-pod", {"namespace": namespace, "name": name})


class Sandbox:
    """A running sandbox: Kubernetes API, ingress port and moto, in one child process.

    Args:
        state_dir: where the child writes its kubeconfig, ready file and log.
        config: timing, markers, ports; defaults to human-visible speed on free ports.
        startup_timeout: seconds to wait for the child to answer.

    Use ``async with Sandbox(path, config=cfg) as sb:`` or ``await sb.start()`` / ``await sb.stop()``.
    """

    def __init__(
        self, state_dir: Path, config: SandboxConfig | None = None, *, startup_timeout: float = 30.0
    ) -> None:
        self.state_dir = Path(state_dir)
        self.config = config or SandboxConfig()
        self.startup_timeout = startup_timeout
        self.faults = SandboxFaults(self)
        self._proc: subprocess.Popen[bytes] | None = None
        self._info: dict[str, Any] = {}
        self._http: httpx.AsyncClient | None = None

    @property
    def k8s_url(self) -> str:
        return str(self._need("k8s_url"))

    @property
    def kubeconfig(self) -> Path:
        return Path(self._need("kubeconfig"))

    @property
    def aws_endpoint(self) -> str:
        return str(self._need("aws_endpoint"))

    @property
    def aws_region(self) -> str:
        return str(self._need("aws_region"))

    @property
    def ingress_url(self) -> str:
        return str(self._need("ingress_url"))

    @property
    def node_log_dir(self) -> Path | None:
        """The node's pod log directory (CRI files), ``None`` when it writes none."""
        found = self._need("node_log_dir") if "node_log_dir" in self._info else None
        return Path(found) if found else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def log_file(self) -> Path:
        return self.state_dir / "sandbox.log"

    def _need(self, key: str) -> Any:
        if key not in self._info:
            raise SandboxError(
                "the sandbox is not running: use `async with Sandbox(...)` or start()"
            )
        return self._info[key]

    async def start(self) -> Sandbox:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ready = self.state_dir / "ready.json"
        ready.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "flightdeck.sandbox",
            "--state-dir",
            str(self.state_dir),
            "--config-json",
            self.config.to_json(),
            "--ready-file",
            str(ready),
            "--quiet",
        ]
        with self.log_file.open("ab") as out:
            self._proc = processes.spawn(argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while not ready.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                await self.stop()
                raise SandboxError(
                    f"the sandbox did not start; its log ({self.log_file}) ends with:\n"
                    + self._log_tail()
                )
            await asyncio.sleep(0.05)
        self._info = json.loads(ready.read_text())
        self._http = httpx.AsyncClient(base_url=self._info["k8s_url"], timeout=30.0)
        return self

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, SIGKILL if it will not go."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        proc, self._proc = self._proc, None
        self._info = {}
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        await asyncio.to_thread(proc.wait)

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def admin(
        self, path: str, body: dict[str, Any] | None = None, method: str = "POST"
    ) -> dict[str, Any]:
        """Call the sandbox's ``/sandbox/v1`` admin API."""
        if self._http is None:
            raise SandboxError("the sandbox is not running")
        response = await self._http.request(method, f"/sandbox/v1/{path}", json=body or {})
        if response.status_code >= 400:
            raise SandboxError(f"sandbox admin {path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result

    async def push_image(self, repository: str, tag: str, delay_s: float = 0.0) -> dict[str, Any]:
        """Make ``repository:tag`` appear in ECR, now or after ``delay_s`` seconds.

        Returns:
            ECR's view of the pushed image (digest, size, pushedAt, uri), or, when
            delayed, the scheduled push.
        """
        return await self.admin(
            "images", {"repository": repository, "tag": tag, "delay_s": delay_s}
        )
