"""``flightdeck up``'s supervisor keeps the embedded nats-server alive (finding 5 of issue 12).

Before, a nats-server killed with SIGKILL stayed dead (a zombie nobody
reaped) and everything waiting on it waited forever.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import Any

import nats.errors
import pytest
import stamina
from rich.console import Console

from flightdeck.cli.services import ServiceSpec
from flightdeck.cli.supervisor import Supervisor
from flightdeck.events import Cause, Codec, declare, subjects
from flightdeck.events.cluster import ResourceDeleted
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_killed_nats_server_is_restarted_on_the_same_port_and_store(
    tmp_path: Path,
) -> None:
    # arrange: a supervised nats-server holding one event, and a client of it
    server = await NatsServer(tmp_path / "nats", log_file=tmp_path / "nats.log").start()
    output = io.StringIO()
    supervisor = Supervisor(Console(file=output, width=200), echo=False)
    nc = await connect(server.url, "supervision-test")
    store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
    try:
        await store.ensure_streams(declare())
        subject = subjects.cluster_object("default", "Service", "kept")
        gone = ResourceDeleted(kind="Service", namespace="default", name="kept", uid="u")
        await store.append(subject, [gone], cause=Cause(actor="test", correlation_id="c"))
        port, killed = server.port, server.pid
        assert killed is not None
        with stamina.set_testing(True, attempts=3):  # restarted without the backoff's wait
            supervisor.supervise_nats(server)

            # act: SIGKILL from outside, as a crash or an operator would
            os.kill(killed, signal.SIGKILL)

            # assert: a new process on the same port, the same store; the client is back
            await eventually(
                lambda: server.running and server.pid != killed, within=30, what="a new nats-server"
            )
        assert server.port == port
        assert reaped(killed), "the dead one is not left a zombie"

        async def read() -> Any:
            try:
                return await store.read_last(subject)
            except (nats.errors.Error, TimeoutError):
                return None  # still reconnecting

        found = await eventually(read, within=30, what="the event")
        assert found.event == gone
        assert supervisor.outcome().restarts == {"nats-server": 1}
        assert "nats-server exited with code -9; restarting in 0s" in output.getvalue()
    finally:
        await supervisor.stop_all()
        await nc.close()
        server.stop()
    assert not supervisor.outcome().clean
    assert supervisor.outcome().summary() == "stopped; restarted nats-server once"


async def test_a_service_that_dies_is_reported_and_restarted_each_time(tmp_path: Path) -> None:
    # arrange: a "service" that exits with code 3 as soon as it starts; no backoff waits
    output = io.StringIO()
    supervisor = Supervisor(Console(file=output, width=200), echo=False)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    # (testing mode ends the loop at the 4th death; running for real it restarts that too)
    with stamina.set_testing(True, attempts=4):
        # act
        await supervisor.start(ServiceSpec("flaky", "tests.support.dies"), env)

        # assert: each death reported with its code, the wait and its last lines; restarted
        def deaths() -> int:
            return output.getvalue().count("✗ flaky exited with code 3; restarting in 0s.")

        await eventually(lambda: deaths() == 4, within=60, what="four deaths")
        await supervisor.stop_all()
    assert "Its last lines:\n    bye" in output.getvalue()
    assert supervisor.outcome().summary() == "stopped; restarted flaky 4 times"


def reaped(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()
