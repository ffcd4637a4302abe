"""Builds the notifier from its settings: the one place adapters are constructed."""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass

from flightdeck.events.audit import SealedSecret
from flightdeck.eventstore import EventStore
from flightdeck.notifier.adapters.smtp import SmtpMailSender
from flightdeck.notifier.adapters.webhook import HttpxWebhookSender
from flightdeck.notifier.config import NotifierSettings
from flightdeck.notifier.service_layer.notify import Notifier
from flightdeck.notifier.service_layer.ports import Opener
from flightdeck.runtime import contract
from flightdeck.runtime.consumers import ConsumerSpec
from flightdeck.runtime.egress import EgressSettings
from flightdeck.runtime.retries import NOTIFY
from flightdeck.runtime.sealing import Sealer, SecretError, SecretsSettings
from flightdeck.runtime.settings import load_section

SERVICE = "notifier"


class NoKey:
    """No ``FLIGHTDECK_SECRETS__KEY``: no channel's secrets open (each delivery says so)."""

    def open(self, sealed: SealedSecret, binding: str) -> str:
        raise SecretError("FLIGHTDECK_SECRETS__KEY is not set: channel secrets cannot be opened")


@dataclass
class Senders:
    webhooks: HttpxWebhookSender
    mail: SmtpMailSender

    async def close(self) -> None:
        await self.webhooks.close()


@dataclass
class NotifierService:
    notifier: Notifier
    senders: Senders
    consumer: ConsumerSpec

    async def close(self) -> None:
        await self.senders.close()


def build_senders(
    settings: NotifierSettings | None = None, tls_context: ssl.SSLContext | None = None
) -> Senders:
    settings = settings or load_section(NotifierSettings)
    return Senders(
        webhooks=HttpxWebhookSender(settings.timeout_s, load_section(EgressSettings).policy()),
        mail=SmtpMailSender(settings.timeout_s, tls_context),
    )


def build(
    store: EventStore,
    settings: NotifierSettings | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> NotifierService:
    settings = settings or load_section(NotifierSettings)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secrets = load_section(SecretsSettings)
    opener: Opener = Sealer.from_settings(secrets) if secrets.key else NoKey()
    senders = build_senders(settings, tls_context)
    notifier = Notifier(
        store,
        opener,
        senders.webhooks,
        senders.mail,
        clock=time.time,
        max_attempts=settings.max_attempts,
    )
    # A delivery may take every attempt and every wait: the ack wait outlasts it, so
    # a slow receiver never has the same incident redelivered to a second handler.
    waits = sum(
        min(NOTIFY.wait_max, NOTIFY.wait_initial * NOTIFY.wait_exp_base ** (n - 1))
        + NOTIFY.wait_jitter
        for n in range(1, settings.max_attempts)
    )
    longest_s = settings.max_attempts * settings.timeout_s + waits
    consumer = ConsumerSpec.of(
        contract.NOTIFIER.durable("incidents"),
        notifier.on_message,
        ack_wait_s=longest_s + 10,
        concurrency=16,
        start="new",
    )
    return NotifierService(notifier, senders, consumer)
