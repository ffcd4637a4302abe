"""What the service layer needs from the outside: something that sends a message."""

from __future__ import annotations

from typing import Protocol

from flightdeck.events.audit import SealedSecret
from flightdeck.notifier.domain.channels import Email, EmailChannel, HttpRequest
from flightdeck.notifier.domain.delivery import Answer


class WebhookSender(Protocol):
    async def post(self, request: HttpRequest) -> Answer:
        """POST the request once; the receiver's answer, or why none came (never raises)."""
        ...


class MailSender(Protocol):
    async def send(self, channel: EmailChannel, email: Email) -> Answer:
        """Hand the mail to the channel's SMTP server once (never raises)."""
        ...


class Opener(Protocol):
    """Opens a sealed secret (the runtime's ``Sealer``)."""

    def open(self, sealed: SealedSecret, binding: str) -> str: ...
