"""One whole system for the end-to-end suite, shared by its tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flightdeck.runtime.nats_server import NatsServer
from tests.e2e.system import System
from tests.support.processes import processes_mentioning


@pytest.fixture(scope="package")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    root = Path(tmp_path_factory.mktemp("e2e"))
    nats = await NatsServer(root / "nats").start()
    running = System(state=root / "state", nats=nats)
    try:
        await running.start()
        yield running
    finally:
        code = await running.stop() if running.proc else 0
        nats.stop()
    assert code == 0, "\n".join(running.output[-40:])
    assert processes_mentioning(str(running.state)) == [], "processes left behind"
