"""The FastStream wiring of the durable consumers (ADR 0019), checked without NATS: one
broker per process, one subscriber per durable, each with its own spec and our pull loop."""

from __future__ import annotations

from typing import Any

import pytest
from faststream import AckPolicy
from faststream.nats import NatsBroker

from flightdeck.events import Recorded
from flightdeck.orchestrator.bootstrap import consumer_specs
from flightdeck.orchestrator.config import OrchestratorSettings
from flightdeck.runtime.consumers import Consumers, ProcessBroker

pytestmark = pytest.mark.unit


async def _handle(r: Recorded[Any]) -> None:  # never called here
    raise AssertionError


def test_every_durable_is_its_own_subscriber_with_its_own_spec() -> None:
    specs = consumer_specs(None, OrchestratorSettings())  # type: ignore[arg-type]
    consumers = Consumers(None, "orchestrator", None)  # type: ignore[arg-type]
    broker = consumers.broker(specs)
    assert isinstance(broker, NatsBroker) and isinstance(broker, ProcessBroker)
    subscribers = broker.subscribers
    assert len(subscribers) == len(specs) == 4
    by_durable = {s.flightdeck_spec.durable: s for s in subscribers}  # type: ignore[attr-defined]
    assert set(by_durable) == {s.durable for s in specs}
    for spec in specs:
        sub: Any = by_durable[spec.durable]
        assert type(sub).__name__ == "_LeasedPull", spec.durable
        assert sub.flightdeck_spec is spec
        assert sub.ack_policy is AckPolicy.MANUAL
        wanted = list(spec.subjects) if len(spec.subjects) > 1 else None
        assert sub.config.durable_name == spec.durable and sub.config.filter_subjects == wanted
    assert consumers.specs == {s.durable: s for s in specs}


async def test_a_documentation_broker_cannot_consume() -> None:
    broker = ProcessBroker(None)
    with pytest.raises(RuntimeError, match="only documents"):
        await broker.connect()
