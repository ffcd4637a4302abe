"""Builds the prober from its settings: the one place adapters are constructed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from flightdeck.events import subjects
from flightdeck.eventstore import EventStore
from flightdeck.prober.adapters.http import HttpProber
from flightdeck.prober.config import ProberSettings
from flightdeck.prober.service_layer import handlers
from flightdeck.prober.service_layer.verification import Verifier
from flightdeck.runtime import contract
from flightdeck.runtime.consumers import ConsumerSpec
from flightdeck.runtime.settings import load_section

SERVICE = "prober"
VERIFY_COLOUR = subjects.command(SERVICE, "verify-colour")


@dataclass
class Prober:
    verifier: Verifier
    http: HttpProber
    consumer: ConsumerSpec

    async def close(self) -> None:
        await self.http.close()


def build(store: EventStore, settings: ProberSettings | None = None) -> Prober:
    settings = settings or load_section(ProberSettings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per check is too much
    http = HttpProber(settings.max_connections)
    verifier = Verifier(store, http, settings.interval_scale)
    consumer = ConsumerSpec.of(
        contract.PROBER.durable("commands"),
        partial(handlers.dispatch, verifier),
        concurrency=settings.concurrency,
        start="new",
    )
    return Prober(verifier, http, consumer)
