"""Builds the notifier's senders from its settings: the one place adapters are constructed."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from flightdeck.notifier.adapters.smtp import SmtpMailSender
from flightdeck.notifier.adapters.webhook import HttpxWebhookSender
from flightdeck.notifier.config import NotifierSettings
from flightdeck.runtime.settings import load_section

SERVICE = "notifier"


@dataclass
class Senders:
    webhooks: HttpxWebhookSender
    mail: SmtpMailSender
    max_attempts: int

    async def close(self) -> None:
        await self.webhooks.close()


def build_senders(
    settings: NotifierSettings | None = None, tls_context: ssl.SSLContext | None = None
) -> Senders:
    settings = settings or load_section(NotifierSettings)
    return Senders(
        webhooks=HttpxWebhookSender(settings.timeout_s),
        mail=SmtpMailSender(settings.timeout_s, tls_context),
        max_attempts=settings.max_attempts,
    )
