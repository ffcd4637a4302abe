"""Stand-ins for a client's socket, for the fan-out's tests (unit and integration)."""

from __future__ import annotations

import asyncio

from flightdeck.gateway.adapters.streams import Subscription
from flightdeck.gateway.domain.rendering import Rendered


class FakeTransport:
    """A direct writer that takes chunks (or refuses them, like a paused transport)."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.chunks: list[bytes] = []

    def write(self, chunk: bytes) -> bool:
        if self.accept:
            self.chunks.append(chunk)
        return self.accept


def sse_frame(rendered: Rendered) -> bytes:
    return rendered.sse


async def parked(sub: Subscription, transport: FakeTransport | None) -> asyncio.Task[None]:
    """A live subscription whose writer sleeps, as after its replay."""
    sub.outbox.go_live(sub.spec.after)
    sub.direct = transport
    task = asyncio.create_task(sub.wait())
    await asyncio.sleep(0)
    return task
