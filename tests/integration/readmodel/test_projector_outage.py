"""The projector outlives NATS going away (issue 12, finding 5: nothing recovered).

A read that failed while catching up used to leave it waiting for ever (and a
failure while live ended it, silently: the gateway runs it as a background
task), so the read model stayed behind for good.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flightdeck.events import Cause, Codec, declare, new_id, streams, subjects
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import Projector
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.integration.readmodel.support import snapshot
from tests.support.samples import requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
cause = Cause.root("user:ada")


async def test_a_projector_that_fails_while_nats_is_down_resumes_once_it_is_back(
    tmp_path: Path, database: Database
) -> None:
    # arrange: NATS down as the projector starts (a gateway restarted in an outage)
    server = await NatsServer(tmp_path / "nats").start()
    nc = await connect(server.url, "projector-outage")
    store = JetStreamEventStore(nc, Codec("/flightdeck/tests"), timeout=0.5, attempts=1)
    await store.ensure_streams(declare())
    first, second = new_id(), new_id()
    await store.append(subjects.deployment(first), [requested(first)], cause=cause, expected=0)
    server.kill()
    projector = Projector(store, database, streams=[streams.DEPLOYMENTS])
    task = asyncio.create_task(projector.run())
    try:

        def interrupted() -> bool:
            state = projector.state.get(streams.DEPLOYMENTS)
            return task.done() or getattr(state, "interruptions", 0) > 0

        await eventually(interrupted, within=30, what="the projector to hit the outage")
        assert not task.done(), f"the projector ended: {task.exception()!r}"

        # act: NATS is back, and the history moves on
        await server.start()
        await eventually(lambda: nc.is_connected, within=30, what="reconnection")
        await store.append(
            subjects.deployment(second), [requested(second)], cause=cause, expected=0
        )

        # assert: both are in the read model
        async def projected() -> bool:
            ids = {r["id"] for r in (await snapshot(database))["deployments"]}
            return {first, second} <= ids

        await eventually(projected, within=60, what="both deployments projected")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await nc.close()
        server.stop()
