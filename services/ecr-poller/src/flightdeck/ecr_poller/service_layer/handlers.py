"""The poller's one command, in its explicit map."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flightdeck.ecr_poller.service_layer.polling import Poller
from flightdeck.events import Recorded
from flightdeck.events.commands import WatchImage

Handler = Callable[[Poller, Recorded[Any]], Awaitable[None]]


async def on_watch_image(poller: Poller, r: Recorded[WatchImage]) -> None:
    await poller.watch(r)


HANDLERS: dict[type, Handler] = {WatchImage: on_watch_image}


async def dispatch(poller: Poller, r: Recorded[Any]) -> None:
    handler = HANDLERS.get(type(r.event))
    if handler is not None:
        await handler(poller, r)
