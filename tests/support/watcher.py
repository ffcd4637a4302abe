"""The real k8s-watcher process for tests that need pod events, once it leads."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime import processes
from tests.support.waiting import eventually


@contextlib.asynccontextmanager
async def leading_watcher(
    store: JetStreamEventStore, env: dict[str, str], log: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Start ``python -m flightdeck.k8s_watcher`` with ``env`` (which names its own lease
    bucket, so it never competes with another test's watcher), logging to ``log``;
    yield it once it holds the lease, stop it afterwards."""
    bucket = env["FLIGHTDECK_K8S_WATCHER__LEASE_BUCKET"]
    with log.open("ab") as out:
        proc = processes.spawn(
            [sys.executable, "-m", "flightdeck.k8s_watcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def last_words() -> str:
        return log.read_text(errors="replace")[-3000:]

    async def leading() -> bool:
        assert proc.poll() is None, last_words()
        try:
            await (await store.nc.jetstream().key_value(bucket)).get("k8s-watcher")
        except Exception:  # no bucket or no key yet
            return False
        return True

    try:
        await eventually(leading, within=60, what="the k8s-watcher to lead")
        yield proc
    finally:
        processes.stop(proc, timeout=10)
