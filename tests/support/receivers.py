"""Local receivers for the notifier's tests: an SMTP server (aiosmtpd) that records
mail, with STARTTLS and AUTH, and a webhook receiver (uvicorn) that records requests,
verifies the signature and counts an idempotency key once."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from flightdeck.notifier.domain import channels
from tests.support.certs import Certificates
from tests.support.serving import free_port


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: Message
    login: str | None
    tls: bool


@dataclass
class SmtpRecorder:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)


class _Handler:
    def __init__(self, recorder: SmtpRecorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.auth_data else None
        self.recorder.mails.append(
            Mail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(
                    envelope.original_content or envelope.content, policy=policy.default
                ),
                login,
                session.ssl is not None,
            )
        )
        return "250 OK queued"


@contextlib.contextmanager
def smtp_server(certs: Certificates, *, user: str, password: str) -> Iterator[SmtpRecorder]:
    """An SMTP server on a free port that requires STARTTLS, then AUTH as ``user``."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certs.server_cert, certs.server_key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    recorder = SmtpRecorder("127.0.0.1", free_port())
    controller = Controller(
        _Handler(recorder),
        hostname=recorder.host,
        port=recorder.port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


def client_tls(certs: Certificates) -> ssl.SSLContext:
    """A client context that trusts the test CA (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certs.ca))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool | None


@dataclass
class WebhookReceiver:
    """Records every request; answers from ``script`` (statuses, then 200 for ever).

    ``secret``: check the signature of every request (``signed``), like a real receiver.
    ``delivered`` counts each idempotency key once, the way a receiver dedupes.
    """

    url: str
    secret: str | None = None
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    delay_s: float = 0.0

    @property
    def delivered(self) -> list[Received]:
        seen: dict[str, Received] = {}
        for r in self.requests:
            key = r.headers.get(channels.IDEMPOTENCY_HEADER.lower(), "")
            if (r.signed is not False) and key not in seen:
                seen[key] = r
        return list(seen.values())

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        signed = None
        if self.secret is not None:
            signed = channels.verify(
                self.secret,
                signature=headers.get(channels.SIGNATURE_HEADER.lower(), ""),
                timestamp=headers.get(channels.TIMESTAMP_HEADER.lower(), ""),
                body=body,
                now=time.time(),
            )
        self.requests.append(Received(scope["path"], headers, body, signed))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self.script.pop(0) if self.script else 200
        if signed is False:
            status = 401
        answer = b"ok" if status < 300 else f"refused with {status}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@contextlib.contextmanager
def _no_signals() -> Iterator[None]:
    yield


@contextlib.asynccontextmanager
async def webhook_receiver(
    secret: str | None = None, script: list[int] | None = None
) -> AsyncIterator[WebhookReceiver]:
    port = free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}/hook", secret, list(script or []))
    server = uvicorn.Server(
        uvicorn.Config(
            receiver.app,
            host="127.0.0.1",
            port=port,
            log_level="error",
            lifespan="off",
            interface="asgi3",
        )
    )
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "webhook receiver did not start"
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
