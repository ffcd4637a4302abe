"""Chaos under ``flightdeck up``: its own nats-server SIGKILLed mid-deployment (issue 12, finding 5).

Here ``flightdeck up`` starts the embedded nats-server itself (on a free port)
and so supervises it: it must restart it on the same port and store, every
service must come back to it, the deployment must complete with every event
exactly once, and Ctrl-C must then say what had to be done (not "stopped
cleanly") and exit with 3.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flightdeck.cli.readiness import wait_ready
from flightdeck.cli.services import SERVICES
from flightdeck.events import Codec, subjects
from flightdeck.events.deployments import StageStarted
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from tests.e2e.conftest import assert_stop_reported
from tests.e2e.system import System
from tests.e2e.test_pipeline import _rebuild_equals_live, deploy, follow, result
from tests.support.processes import processes_mentioning
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


STAGES = ["artifact", "apply", "rollout", "expose", "verify", "switch", "complete"]


@pytest.fixture(scope="module")
async def supervised(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """``flightdeck up`` with its own (embedded, supervised) nats-server."""
    root = Path(tmp_path_factory.mktemp("e2e-supervised"))
    running = System(state=root / "state", nats=None)
    try:
        await running.start()
        yield running
    finally:
        if running.proc is not None and running.proc.returncode is None:
            assert_stop_reported(running, await running.stop())
    assert processes_mentioning(str(running.state)) == [], "processes left behind"


@pytest.fixture(scope="module")
async def events(supervised: System) -> AsyncIterator[EventStore]:
    nc = await connect(supervised.nats_config("admin"), "e2e-chaos", user="admin")
    yield JetStreamEventStore(nc, Codec("/flightdeck/e2e"))
    await nc.close()


async def nats_restarted(system: System, killed: int) -> bool:
    pids = system.nats_pids()
    return len(pids) == 1 and pids[0] != killed


async def healthy(system: System) -> bool:
    try:
        async with system.client() as http:
            response = await http.get("/health")
    except httpx.TransportError:
        return False
    return response.status_code == 200 and response.json().get("status") == "UP"


async def test_nats_killed_mid_deployment_is_restarted_and_the_deployment_completes_once(
    supervised: System, events: EventStore
) -> None:
    killed: list[int] = []

    async def chaos(kind: str, data: dict[str, Any]) -> None:
        if data.get("stage") == "rollout" and not killed:
            killed.append(supervised.kill_nats())
            await eventually(
                lambda: nats_restarted(supervised, killed[0]),
                within=60,
                what="flightdeck up to restart nats-server",
            )

    # act: a deployment, and SIGKILL of nats-server as its rollout starts
    await supervised.push_image("chaos", "v1", delay_s=0.5)
    dep = await deploy(supervised, "chaos", "v1")
    seen = await follow(supervised, dep, on_event=chaos)

    # assert: restarted, healthy again, the deployment done, every event once, in order
    assert killed, "nats-server was never killed"
    output = "\n".join(supervised.output)
    assert "✗ nats-server exited with code -9" in output
    assert "✔ nats-server restarted at" in output
    assert seen[-1][1] == "done", seen[-1]
    assert (await result(supervised, dep))["phase"] == "SUCCEEDED"
    await eventually(lambda: healthy(supervised), within=60, what="/health UP again")

    records = await events.read(subjects.deployment(dep))
    assert len({r.id for r in records}) == len(records), "a ce-id stored twice"
    assert [i for i, _, _ in seen] == [r.position for r in records], "SSE: each event once"
    started = [r.event.stage.value for r in records if isinstance(r.event, StageStarted)]
    assert started == STAGES
    await _rebuild_equals_live(supervised, events)


async def test_a_long_nats_outage_ends_no_service_and_a_new_deployment_goes_through(
    supervised: System, events: EventStore
) -> None:
    # act: nats-server killed, and each restart killed again, until the backoff has
    # kept NATS away longer than any read's timeout (1 + 2 + 4 s and start-ups)
    before = len(supervised.output)
    killed = 0
    while killed < 3:
        pids = supervised.nats_pids()
        if len(pids) == 1:
            supervised.kill_nats()
            killed += 1
        await asyncio.sleep(0.05)
    await eventually(lambda: healthy(supervised), within=120, what="/health UP again")

    # assert: every service rode it out (none exited), all answer, and work goes on
    during = supervised.output[before:]
    exits = [line for line in during if line.startswith("✗ ") and "nats-server" not in line]
    assert exits == [], "\n".join(during[-60:])
    for spec in SERVICES:
        await wait_ready(events.nc, spec.name, timeout=60)
    await supervised.push_image("after", "v1")
    dep = await deploy(supervised, "after", "v1")
    assert (await follow(supervised, dep))[-1][1] == "done"
    assert (await result(supervised, dep))["phase"] == "SUCCEEDED"


async def test_ctrl_c_says_what_had_to_be_restarted_and_exits_3(
    supervised: System, events: EventStore
) -> None:
    # arrange: on top of whatever the tests before did, one service dies and is restarted
    old = await supervised.kill("prober")
    await eventually(
        lambda: len(supervised.pids("prober")) == 1 and supervised.pids("prober") != [old],
        within=60,
        what="the prober restarted",
    )
    await wait_ready(events.nc, "prober", timeout=60)

    code = await supervised.stop()

    def count(start: str) -> int:
        return sum(line.startswith(start) for line in supervised.output)

    nats = count("✔ nats-server restarted") + count("✗ nats-server did not start again")
    restarted = [f"nats-server {times(nats)}"] * bool(nats) + [
        f"{name} {times(count(f'✗ {name} exited with code'))}"
        for name in sorted(s.name for s in SERVICES)
        if count(f"✗ {name} exited with code")
    ]
    assert "✔ stopped cleanly" not in supervised.output
    assert supervised.output[-1] == "⚠ stopped; restarted " + ", ".join(restarted)
    assert code == 3
    with pytest.raises(ConnectionError):  # and nats-server was stopped with the rest
        await connect(supervised.nats_config("admin"), "after-stop", user="admin", timeout=2)
