"""Email over SMTP with aiosmtplib: STARTTLS before AUTH, one session per message."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from flightdeck.notifier.domain.channels import Email, EmailChannel
from flightdeck.notifier.domain.delivery import Answer, excerpt


def mime(email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = email.subject
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    return message


class SmtpMailSender:
    """``tls_context``: whom to trust for STARTTLS (the system's CAs when ``None``)."""

    def __init__(self, timeout_s: float = 10.0, tls_context: ssl.SSLContext | None = None) -> None:
        self._timeout_s = timeout_s
        self._tls_context = tls_context

    async def send(self, channel: EmailChannel, email: Email) -> Answer:
        try:
            errors, reply = await aiosmtplib.send(
                mime(email),
                sender=email.sender,
                recipients=list(email.recipients),
                hostname=channel.host,
                port=channel.port,
                username=channel.username,
                password=channel.password,
                start_tls=channel.starttls,
                tls_context=self._tls_context if channel.starttls else None,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            return Answer(ok=False, status=exc.code, excerpt=excerpt(exc.message), smtp=True)
        except aiosmtplib.SMTPTimeoutError:
            return Answer(ok=False, status=None, error="timeout", smtp=True)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Answer(
                ok=False,
                status=None,
                error=type(exc).__name__,
                excerpt=excerpt(str(exc)),
                smtp=True,
            )
        if errors:  # some recipients refused: the rest got it, so it is not retried
            refused = ", ".join(f"{who}: {r.code} {r.message}" for who, r in errors.items())
            return Answer(ok=True, status=250, excerpt=excerpt(f"refused {refused}"), smtp=True)
        return Answer(ok=True, status=250, excerpt=excerpt(reply), smtp=True)
