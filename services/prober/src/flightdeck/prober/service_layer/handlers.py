"""The prober's commands, in their explicit map."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.commands import VerifyColour
from flightdeck.prober.service_layer.verification import Verifier

Handler = Callable[[Verifier, Recorded[Any]], Awaitable[None]]


async def on_verify_colour(verifier: Verifier, r: Recorded[VerifyColour]) -> None:
    await verifier.verify(r)


HANDLERS: dict[type, Handler] = {VerifyColour: on_verify_colour}


async def dispatch(verifier: Verifier, r: Recorded[Any]) -> None:
    handler = HANDLERS.get(type(r.event))
    if handler is not None:
        await handler(verifier, r)
