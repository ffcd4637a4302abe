"""Child processes that never outlive their parent.

Every process Flightdeck starts (nats-server, services) gets ``PR_SET_PDEATHSIG``
on Linux, so even a SIGKILLed parent leaves no orphan behind, and its own
session, so a terminal's Ctrl-C reaches only the parent, which then stops the
children in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL("libc.so.6", use_errno=True)

    def set_pdeathsig() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_pdeathsig


def spawn(
    argv: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, bound to die with this process."""
    return subprocess.Popen(
        [str(a) for a in argv],
        env=env,
        stdout=stdout,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_die_with_parent(),
    )


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> int:
    """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


async def spawn_async(
    argv: Sequence[str | Path], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    """Like :func:`spawn`, for asyncio, with stdout and stderr merged into one pipe."""
    return await asyncio.create_subprocess_exec(
        *[str(a) for a in argv],
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent(),
    )


async def until_exited(pid: int, alive: Callable[[], bool], poll_s: float = 0.2) -> None:
    """Return once process ``pid`` has exited.

    On Linux a pidfd becomes readable the moment the process dies (no polling, no
    reaping: its owner still collects the exit code); elsewhere ``alive`` (which
    may reap) is asked every ``poll_s`` seconds.
    """
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfds here, or the process is gone already
        while alive():  # noqa: ASYNC110 (nothing to wait on without a pidfd)
            await asyncio.sleep(poll_s)
        return
    loop = asyncio.get_running_loop()
    died: asyncio.Future[None] = loop.create_future()

    def on_exit() -> None:
        if not died.done():
            died.set_result(None)

    loop.add_reader(fd, on_exit)
    try:
        await died
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)
        os.close(fd)
