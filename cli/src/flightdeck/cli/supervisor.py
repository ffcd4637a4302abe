"""Runs nats-server and the services as child processes: restarts with backoff, a report.

A child that dies (kill -9 included) is reported with its last log lines and
started again after a growing, jittered delay (``retries.RESTART``: 1-2 s,
2-3 s, 4-5 s … 30 s, "restarting in 2s"); the embedded nats-server is restarted
the same way, on the same port and store, so the services (which reconnect
forever) pick up where they were. Stopping sends SIGTERM to every service and
SIGKILL to any still alive after the grace period. :meth:`Supervisor.outcome`
says afterwards what had to be done.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from flightdeck.cli.services import ServiceSpec
from flightdeck.runtime.nats_server import NatsServer, NatsServerError
from flightdeck.runtime.processes import spawn_async, until_exited
from flightdeck.runtime.retries import RESTART

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
HEALTHY_AFTER_S = 60.0  # a child that ran this long starts its backoff over
NATS = "nats-server"
_FAILED_START = (NatsServerError, OSError, subprocess.SubprocessError)


class Exited(Exception):
    """A supervised process ended (while nobody asked it to): the failure we retry."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"exited with code {code}")
        self.code = code


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


@dataclass(frozen=True)
class Outcome:
    """What a run had to do besides starting and stopping: restarts, and unclean stops."""

    restarts: dict[str, int] = field(default_factory=dict)
    unclean_stops: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.restarts and not self.unclean_stops

    def summary(self) -> str:
        """``stopped cleanly``, or e.g. ``stopped; restarted nats-server once, orchestrator twice``."""
        if self.clean:
            return "stopped cleanly"
        parts = []
        if self.restarts:
            parts.append(
                "restarted " + ", ".join(f"{n} {times(k)}" for n, k in self.restarts.items())
            )
        parts += [f"{name} {what}" for name, what in self.unclean_stops.items()]
        return "stopped; " + "; ".join(parts)


@dataclass
class Child:
    spec: ServiceSpec
    colour: str
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=15))
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Supervisor:
    """Starts, watches and stops nats-server and the service processes.

    Args:
        console: where prefixed service output and reports go.
        echo: print each service's log lines (``False``: keep them for reports only).
    """

    def __init__(self, console: Console, *, echo: bool = True) -> None:
        self._console = console
        self._echo = echo
        self._children: dict[str, Child] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._restarts: Counter[str] = Counter()
        self._unclean: dict[str, str] = {}

    @property
    def pids(self) -> dict[str, int]:
        return {n: c.proc.pid for n, c in self._children.items() if c.proc is not None}

    def outcome(self) -> Outcome:
        restarted = sorted(self._restarts, key=lambda n: (n != NATS, n))
        return Outcome({n: self._restarts[n] for n in restarted}, dict(self._unclean))

    # ------------------------------------------------------------------ NATS

    def supervise_nats(self, server: NatsServer) -> None:
        """Restart ``server`` (same port, same store) whenever it dies, until :meth:`stop_all`."""
        self._watchers.append(asyncio.create_task(self._watch_nats(server), name="watch nats"))

    async def _watch_nats(self, server: NatsServer) -> None:
        def report(exc: Exception, delay: float) -> None:
            if isinstance(exc, Exited):
                where = "same port and store"
                self._report_death(NATS, exc.code, delay, _tail(server.log_file), where)
            else:
                self._console.print(
                    f"[bold red]✗ {NATS} did not start again[/] ({exc}); "
                    f"trying again in {delay:.0f}s"
                )

        restarts = RESTART.retrying((Exited, *_FAILED_START), report)
        async for attempt in restarts:
            with attempt:
                if attempt.num > 1:  # it died, or did not start: the backoff was slept
                    if self._stopping:
                        return
                    self._restarts[NATS] += 1
                    await server.start()
                    self._console.print(
                        f"[green]✔[/] {NATS} restarted at [bold]{server.url}[/] "
                        "(same store; the services reconnect)"
                    )
                started = time.monotonic()
                if server.pid is not None:
                    await until_exited(server.pid, lambda: server.running)
                if self._stopping:
                    return
                if time.monotonic() - started > HEALTHY_AFTER_S:
                    restarts.reset()
                raise Exited(server.returncode)

    # -------------------------------------------------------------- services

    async def start(self, spec: ServiceSpec, env: dict[str, str]) -> None:
        child = Child(spec, _COLOURS[len(self._children) % len(_COLOURS)], env)
        self._children[spec.name] = child
        await self._launch(child)
        child.tasks.append(asyncio.create_task(self._watch(child)))

    async def _launch(self, child: Child) -> None:
        child.proc = await spawn_async(child.spec.argv, env=child.env)
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
        def report(exc: Exception, delay: float) -> None:
            code = exc.code if isinstance(exc, Exited) else None
            self._report_death(child.spec.name, code, delay, list(child.last_lines))

        restarts = RESTART.retrying(Exited, report)
        async for attempt in restarts:
            with attempt:
                if attempt.num > 1:  # it died and the backoff was slept
                    if self._stopping:
                        return
                    await self._launch(child)
                assert child.proc is not None
                started = time.monotonic()
                code = await child.proc.wait()
                if self._stopping:
                    return
                if time.monotonic() - started > HEALTHY_AFTER_S:
                    restarts.reset()  # it ran fine for a while: start the backoff over
                self._restarts[child.spec.name] += 1
                raise Exited(code)

    def _report_death(
        self, name: str, code: int | None, delay: float, lines: list[str], where: str = ""
    ) -> None:
        tail = "\n".join(f"    {escape(line)}" for line in lines) or "    (no output)"
        again = f"restarting in {delay:.0f}s" + (f" ({where})" if where else "")
        self._console.print(
            f"[bold red]✗ {name} exited with code {code}[/]; {again}. Its last lines:\n{tail}"
        )

    # ---------------------------------------------------------------- stop

    async def stop_all(self, grace: float = 10.0) -> None:
        """Stop restarting anything; SIGTERM every service, SIGKILL those still alive
        after ``grace`` seconds. Safe to call more than once."""
        self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        running = {
            name: c.proc
            for name, c in self._children.items()
            if c.proc is not None and c.proc.returncode is None
        }
        for proc in running.values():
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running.values())), grace)
        except TimeoutError:
            for name, proc in running.items():
                if proc.returncode is None:
                    self._unclean[name] = f"killed (still running {grace:.0f}s after SIGTERM)"
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            await asyncio.gather(*(p.wait() for p in running.values()))
        for name, proc in running.items():
            # Ended by the SIGTERM itself (still starting, before its handler): a stop too.
            if name not in self._unclean and proc.returncode not in (0, -signal.SIGTERM):
                self._unclean[name] = f"exited with code {proc.returncode} when stopped"
        for child in self._children.values():
            for task in child.tasks:
                task.cancel()
            await asyncio.gather(*child.tasks, return_exceptions=True)


def _tail(log_file: Path | None, lines: int = 15, window: int = 16_384) -> list[str]:
    """The last lines of a log file (nats-server writes its own), from its last bytes."""
    if log_file is None:
        return []
    try:
        with log_file.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - window))
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]
