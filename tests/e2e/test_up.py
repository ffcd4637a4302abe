"""``flightdeck up`` started as a user would, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from pathlib import Path

import nats
import nats.errors
import pytest

from flightdeck.cli.services import SERVICES
from flightdeck.runtime.processes import free_port
from tests.support.processes import processes_mentioning

pytestmark = pytest.mark.e2e


async def read_until(stream: asyncio.StreamReader, needle: str, log: list[str], timeout: float):
    async def scan() -> None:
        while line := await stream.readline():
            log.append(line.decode(errors="replace").rstrip())
            if needle in log[-1]:
                return
        raise AssertionError(f"output ended before {needle!r}:\n" + "\n".join(log))

    await asyncio.wait_for(scan(), timeout)


def owner_only(state: Path) -> list[str]:
    """What in the state dir another user could read (every file 0600, directory 0700)."""
    loose = []
    for path in [state, *state.rglob("*")]:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:  # a file the store replaced meanwhile
            continue
        if mode & 0o077 and not path.is_symlink():
            loose.append(f"{path} {oct(mode)}")
    return loose


async def assert_refused_without_credentials(url: str) -> None:
    """The embedded NATS answers nobody who cannot prove who they are (ADR 0013)."""

    async def quiet(exc: Exception) -> None:
        pass

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, error_cb=quiet)


async def test_up_shows_every_service_ready_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    marker = str(tmp_path / "state")
    env = {
        **os.environ,
        "FLIGHTDECK_STATE_DIR": marker,
        "FLIGHTDECK_NATS__PORT": str(port),
        "FLIGHTDECK_GATEWAY__PORT": str(free_port()),
        "COLUMNS": "200",
    }
    env.pop("FLIGHTDECK_NATS__URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flightdeck.cli",
        "up",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    log: list[str] = []
    try:
        assert proc.stdout is not None
        await read_until(proc.stdout, "All services ready", log, timeout=90)
        output = "\n".join(log)
        assert f"nats-server ready at nats://127.0.0.1:{port}" in output
        for spec in SERVICES:
            assert f"✔ {spec.name} ready" in output
        children = processes_mentioning(marker)
        assert len(children) >= len(SERVICES) + 2  # the CLI, nats-server, every service
        assert owner_only(Path(marker)) == []
        await assert_refused_without_credentials(f"nats://127.0.0.1:{port}")

        proc.send_signal(signal.SIGINT)
        await read_until(proc.stdout, "stopped cleanly", log, timeout=30)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = "\n".join(log)
    for spec in SERVICES:
        assert f"code=0 service={spec.name}" in output, f"{spec.name} did not stop cleanly"
    assert processes_mentioning(marker) == []
