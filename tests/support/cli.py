"""Running the ``flightdeck`` command as a user would, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str


async def flightdeck(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flightdeck.cli",
        *args,
        env={**os.environ, "COLUMNS": "220", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())
