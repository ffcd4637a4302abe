"""The gateway's fan-out after nats-server restarts (issue 12, finding 5: supervision).

The hub follows each stream with one ordered consumer asking for new events
only. When NATS restarted before a new event had arrived, nats-py recreated
that consumer from the stream's FIRST event: every client feed was handed the
whole history again. After a restart the hub must go on exactly where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from flightdeck.events import Cause, Codec, Recorded, declare, new_id, streams, subjects
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.gateway.adapters.hub import Hub
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.domain.outbox import Outbox
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.support.samples import progressed, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@dataclass(eq=False)
class Recorder:
    """A client of one feed that notes the position of every event handed to it."""

    seen: list[int] = field(default_factory=list)
    outbox: Outbox = field(default_factory=lambda: Outbox(10_000))
    direct: Any = None

    def client_filter(self, rec: Recorded[Any]) -> Rendered | None:
        self.seen.append(rec.position)
        return None

    @property
    def frame(self) -> Any:
        return lambda rendered: b""

    def wake(self) -> None:
        pass

    def push(self, chunk: bytes, first: int, last: int, now: float) -> bool:
        return False


async def test_after_a_nats_restart_the_hub_hands_out_new_events_only(tmp_path: Path) -> None:
    # arrange: a stream with history, a hub following it, one client of one deployment
    server = await NatsServer(tmp_path / "nats").start()
    nc = await connect(server.url, "hub-test")
    store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
    hub = Hub(store, Metrics())
    try:
        await store.ensure_streams(declare())
        dep = new_id()
        subject = subjects.deployment(dep)
        cause = Cause.root("user:ada")
        at = (await store.append(subject, [requested(dep)], cause=cause, expected=0)).last_position
        for n in range(20):
            at = (
                await store.append(subject, [progressed(n)], cause=cause, expected=at)
            ).last_position
        await hub.follow(streams.DEPLOYMENTS)
        client = Recorder()
        hub.attach(subject, lambda rec: None, client)

        # act: SIGKILL and restart nats-server before any new event, then one new event
        server.kill()
        await server.start()
        await eventually(lambda: nc.is_connected, within=30, what="the hub's connection back")
        latest = await store.append(subject, [progressed(99)], cause=cause, expected=at)

        # assert: the client got that event, and none of the history again
        await eventually(lambda: latest.last_position in client.seen, within=60, what="new event")
        assert client.seen == [latest.last_position]
    finally:
        await hub.close()
        await nc.close()
        server.stop()
