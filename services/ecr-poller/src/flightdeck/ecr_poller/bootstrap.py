"""Builds the poller from its settings: the one place adapters are constructed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from flightdeck.ecr_poller.adapters.connections import AwsConnections
from flightdeck.ecr_poller.adapters.ecr import Credentials, Ecr
from flightdeck.ecr_poller.config import PollerSettings
from flightdeck.ecr_poller.service_layer import handlers
from flightdeck.ecr_poller.service_layer.polling import Poller
from flightdeck.events import subjects
from flightdeck.eventstore import EventStore
from flightdeck.runtime import contract
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.consumers import ConsumerSpec
from flightdeck.runtime.sealing import Sealer, SecretsSettings
from flightdeck.runtime.settings import load_section

SERVICE = "ecr-poller"
WATCH_IMAGE = subjects.command(SERVICE, "watch-image")


@dataclass
class EcrPoller:
    poller: Poller
    ecr: Ecr
    consumer: ConsumerSpec

    async def close(self) -> None:
        await self.poller.close()
        await self.ecr.close()


def build(
    store: EventStore, aws: AwsSettings | None = None, settings: PollerSettings | None = None
) -> EcrPoller:
    aws = aws or load_section(AwsSettings)
    settings = settings or load_section(PollerSettings)
    secrets = load_section(SecretsSettings)
    sealer = Sealer.from_settings(secrets) if secrets.key else None
    ecr = Ecr(aws, Credentials(aws, AwsConnections(store, sealer)))
    poller = Poller(
        store,
        ecr,
        lambda: datetime.now(UTC),
        interval_s=settings.interval_s,
        backoff_max_s=settings.backoff_max_s,
        missing_repository_grace_s=settings.missing_repository_grace_s,
    )
    consumer = ConsumerSpec.of(
        contract.ECR_POLLER.durable("commands"),
        partial(handlers.dispatch, poller),
        concurrency=settings.max_watches,
        ack_wait_s=settings.ack_wait_s,
        start="new",
    )
    return EcrPoller(poller, ecr, consumer)
