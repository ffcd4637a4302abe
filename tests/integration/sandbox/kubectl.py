"""The real kubectl as a subprocess, pointed at the sandbox's kubeconfig."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Kubectl:
    """Runs ``kubectl`` with ``KUBECONFIG`` set and a cache dir of its own (discovery is cached)."""

    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        binary = shutil.which("kubectl")
        assert binary is not None
        self.binary = binary
        self.cache_dir = cache_dir
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(cache_dir.parent)}

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--cache-dir", str(self.cache_dir), *args]

    async def __call__(self, *args: str, stdin: str | None = None, timeout: float = 60.0) -> Result:
        proc = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            env=self.env,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin else None), timeout
        )
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())

    async def ok(self, *args: str, stdin: str | None = None) -> str:
        """Run and insist on exit code 0; returns stdout."""
        result = await self(*args, stdin=stdin)
        assert result.code == 0, (
            f"kubectl {' '.join(args)} exited {result.code}: {result.err}{result.out}"
        )
        return result.out

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        """A long-running kubectl (``-w``, ``logs -f``) whose stdout the test reads."""
        return await asyncio.create_subprocess_exec(
            *self.argv(*args),
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
