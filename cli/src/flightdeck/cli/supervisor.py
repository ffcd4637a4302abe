"""Runs services as child processes: prefixed output, restarts with backoff.

A service that dies is reported with its last log lines and started again
after a growing delay (1 s, 2 s, 4 s … capped at 30 s); stopping sends SIGTERM
to every child and SIGKILL to any still alive after the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape

from flightdeck.cli.services import ServiceSpec
from flightdeck.runtime.processes import spawn_async

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
MAX_BACKOFF_S = 30.0


def restart_delay(restarts: int) -> float:
    """Seconds to wait before the ``restarts``-th restart."""
    return min(MAX_BACKOFF_S, 2.0 ** max(0, restarts - 1))


@dataclass
class Child:
    spec: ServiceSpec
    colour: str
    env: dict[str, str] = field(default_factory=dict)
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=15))
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Supervisor:
    """Starts, watches and stops service processes.

    Args:
        console: where prefixed service output and reports go.
        env: the environment every child gets.
        echo: print each service's log lines (``False``: keep them for reports only).
    """

    def __init__(self, console: Console, env: dict[str, str], *, echo: bool = True) -> None:
        self._console = console
        self._env = env
        self._echo = echo
        self._children: dict[str, Child] = {}
        self._stopping = False

    @property
    def pids(self) -> dict[str, int]:
        return {n: c.proc.pid for n, c in self._children.items() if c.proc is not None}

    async def start(self, spec: ServiceSpec, env: dict[str, str] | None = None) -> None:
        """Start ``spec`` with the common environment plus its own ``env`` (its NATS
        credentials), and restart it whenever it dies."""
        child = Child(spec, _COLOURS[len(self._children) % len(_COLOURS)], env or {})
        self._children[spec.name] = child
        await self._launch(child)
        child.tasks.append(asyncio.create_task(self._watch(child)))

    async def _launch(self, child: Child) -> None:
        child.proc = await spawn_async(child.spec.argv, env={**self._env, **child.env})
        child.tasks.append(asyncio.create_task(self._pump(child, child.proc)))

    async def _pump(self, child: Child, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        prefix = f"[{child.colour}]{child.spec.name:>13}[/] │ "
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            child.last_lines.append(line)
            if self._echo:
                self._console.print(prefix + escape(line), highlight=False, soft_wrap=True)

    async def _watch(self, child: Child) -> None:
        while True:
            assert child.proc is not None
            started = time.monotonic()
            code = await child.proc.wait()
            if self._stopping:
                return
            if time.monotonic() - started > 60:
                child.restarts = 0  # it ran fine for a while: start the backoff over
            child.restarts += 1
            delay = restart_delay(child.restarts)
            tail = "\n".join(f"    {escape(line)}" for line in child.last_lines)
            self._console.print(
                f"[bold red]✗ {child.spec.name} exited with code {code}[/]; "
                f"restarting in {delay:.0f}s. Its last lines:\n{tail}"
            )
            await asyncio.sleep(delay)
            if self._stopping:
                return
            await self._launch(child)

    async def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM every child, SIGKILL those still alive after ``grace`` seconds."""
        self._stopping = True
        procs = [c.proc for c in self._children.values() if c.proc and c.proc.returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), grace)
        except TimeoutError:
            for proc in procs:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            await asyncio.gather(*(p.wait() for p in procs))
        for child in self._children.values():
            for task in child.tasks:
                task.cancel()
            await asyncio.gather(*child.tasks, return_exceptions=True)
