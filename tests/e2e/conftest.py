"""One whole system for the end-to-end suite, shared by its tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flightdeck.cli.provisioning import nats_users
from flightdeck.runtime.nats_credentials import NatsCredentials
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.settings import NATS_CREDENTIALS_DIR
from tests.e2e.system import FAST, System
from tests.support.github import github_stand_in
from tests.support.processes import processes_mentioning
from tests.support.serving import free_port, serve


@pytest.fixture(scope="package")
async def github_url() -> AsyncIterator[str]:
    """GitHub's REST API as the gateway process reaches it: a local stand-in."""
    port = free_port()
    server, task = await serve(github_stand_in, port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="package")
async def system(
    tmp_path_factory: pytest.TempPathFactory, github_url: str
) -> AsyncIterator[System]:
    root = Path(tmp_path_factory.mktemp("e2e"))
    state = root / "state"
    # The users flightdeck up would generate, in its state dir, for the server this
    # test owns (so it can kill and restart it); flightdeck up finds them there.
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAST.items():
            env.setenv(name, value)  # the buckets' lifetimes are the services' settings
        credentials = NatsCredentials(state / NATS_CREDENTIALS_DIR).ensure(nats_users())
    nats = await NatsServer(root / "nats", auth=credentials).start()
    running = System(
        state=state, nats=nats, overrides={"FLIGHTDECK_GATEWAY__GITHUB_API_URL": github_url}
    )
    try:
        await running.start()
        yield running
    finally:
        code = await running.stop() if running.proc else 0
        nats.stop()
    assert_stop_reported(running, code)
    assert processes_mentioning(str(running.state)) == [], "processes left behind"


def assert_stop_reported(system: System, code: int) -> None:
    """``flightdeck up`` says "stopped cleanly" (exit 0) only if it restarted nothing;
    otherwise it names what it restarted (exit 3). Some tests kill services on purpose."""
    tail = "\n".join(system.output[-40:])
    restarted = any(" exited with code " in line for line in system.output)
    if restarted:
        assert code == 3, tail
        assert any(line.startswith("⚠ stopped; restarted ") for line in system.output), tail
    else:
        assert code == 0, tail
        assert "✔ stopped cleanly" in system.output, tail
