"""The notifier's senders against real local servers: an SMTP server that insists on
STARTTLS and AUTH (aiosmtpd), and webhook receivers that check the signature."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from flightdeck.events.monitors import IncidentOpened
from flightdeck.notifier.adapters.smtp import SmtpMailSender
from flightdeck.notifier.adapters.webhook import HttpxWebhookSender
from flightdeck.notifier.domain import channels as ch
from flightdeck.notifier.domain.delivery import NOT_ALLOWED, Answer, Next, after
from flightdeck.notifier.service_layer.deliver import deliver
from flightdeck.runtime.egress import EgressPolicy
from tests.support.certs import Certificates, make_certificates
from tests.support.receivers import client_tls, smtp_server, webhook_receiver
from tests.support.serving import free_port

pytestmark = pytest.mark.integration

LOOPBACK = EgressPolicy.of(["127.0.0.0/8", "::1/128"])  # the local receivers

OPEN = ch.opened(
    IncidentOpened(
        incident_id="inc-9",
        monitor_id="mon-9",
        cause="HTTP 500",
        started_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    ),
    tenant="acme",
    monitor_name="shop api",
)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("smtp-certs")))


@pytest.fixture
def smtp(certs: Certificates) -> Iterator:
    with smtp_server(certs, user="fd", password="hunter2") as server:
        yield server


def email_channel(smtp, password: str = "hunter2") -> ch.EmailChannel:
    return ch.EmailChannel(
        host="127.0.0.1",
        port=smtp.port,
        sender="flightdeck@example.com",
        recipients=("ops@example.com", "oncall@example.com"),
        username="fd",
        password=password,
        starttls=True,
    )


async def test_mail_goes_over_starttls_with_auth(smtp, certs: Certificates) -> None:
    channel = email_channel(smtp)
    sender = SmtpMailSender(timeout_s=5, tls_context=client_tls(certs))
    answer = await sender.send(channel, ch.build_email(channel, OPEN, "inc-9.opened.c1"))
    assert answer.ok and answer.status == 250, answer
    [mail] = smtp.mails
    assert mail.login == "fd" and mail.tls
    assert mail.recipients == ["ops@example.com", "oncall@example.com"]
    assert mail.message["Subject"] == "🔴 shop api is down"
    assert mail.message["Message-ID"] == "<inc-9.opened.c1@flightdeck>"
    assert "Cause: HTTP 500" in mail.message.get_payload(decode=True).decode()


async def test_a_wrong_smtp_password_is_a_permanent_failure(smtp, certs: Certificates) -> None:
    channel = email_channel(smtp, password="wrong")
    sender = SmtpMailSender(timeout_s=5, tls_context=client_tls(certs))
    answer = await sender.send(channel, ch.build_email(channel, OPEN, "k"))
    assert not answer.ok and answer.smtp and answer.status == 535, answer
    assert smtp.mails == []


async def test_an_untrusted_smtp_certificate_is_refused(smtp) -> None:
    channel = email_channel(smtp)
    sender = SmtpMailSender(timeout_s=5)  # the system's CAs do not know the test CA
    answer = await sender.send(channel, ch.build_email(channel, OPEN, "k"))
    assert not answer.ok and answer.status is None
    assert smtp.mails == []


async def test_no_smtp_server_is_a_retryable_failure() -> None:
    channel = ch.EmailChannel(
        host="127.0.0.1", port=free_port(), sender="a@example.com", recipients=("b@example.com",)
    )
    answer = await SmtpMailSender(timeout_s=2).send(channel, ch.build_email(channel, OPEN, "k"))
    assert not answer.ok and answer.status is None and answer.error


async def test_a_signed_webhook_is_verified_by_the_receiver() -> None:
    async with webhook_receiver(secret="whsec") as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            channel = ch.WebhookChannel(url=receiver.url, secret="whsec")
            request = ch.build_request(channel, OPEN, "inc-9.opened.c2", timestamp=int(time.time()))
            answer = await sender.post(request)
        finally:
            await sender.close()
    assert answer == Answer(ok=True, status=200, excerpt="ok")
    [got] = receiver.requests
    assert got.signed is True
    assert got.headers["idempotency-key"] == "inc-9.opened.c2"
    assert json.loads(got.body)["incident"]["id"] == "inc-9"


async def test_a_webhook_signed_with_another_secret_is_refused_by_the_receiver() -> None:
    async with webhook_receiver(secret="whsec") as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            channel = ch.WebhookChannel(url=receiver.url, secret="not-the-secret")
            answer = await sender.post(
                ch.build_request(channel, OPEN, "k", timestamp=int(time.time()))
            )
        finally:
            await sender.close()
    assert not answer.ok and answer.status == 401
    assert receiver.requests[0].signed is False and receiver.delivered == []


@pytest.mark.parametrize(
    ("channel_of", "check"),
    [
        (
            lambda url: ch.SlackChannel(url=url),
            lambda body: body["blocks"][0]["type"] == "header",
        ),
        (
            lambda url: ch.DiscordChannel(url=url),
            lambda body: body["embeds"][0]["color"] == ch.OPEN_COLOUR,
        ),
    ],
    ids=["slack", "discord"],
)
async def test_slack_and_discord_payloads_reach_their_receiver(channel_of, check) -> None:
    async with webhook_receiver() as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            request = ch.build_request(channel_of(receiver.url), OPEN, "k", timestamp=0)
            answer = await sender.post(request)
        finally:
            await sender.close()
    assert answer.ok
    assert check(json.loads(receiver.requests[0].body))


async def test_a_failing_receiver_is_retried_then_the_key_is_delivered_once() -> None:
    attempts: list[tuple[int, int | None, Next]] = []

    async def record(number: int, answer: Answer, following: Next, wait: float | None) -> None:
        attempts.append((number, answer.status, following))

    async def no_wait(_: float) -> None:
        pass

    async with webhook_receiver(secret="whsec", script=[503, 500]) as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        channel = ch.WebhookChannel(url=receiver.url, secret="whsec")
        try:
            outcome = await deliver(
                lambda: sender.post(
                    ch.build_request(channel, OPEN, "inc-9.opened.c3", timestamp=int(time.time()))
                ),
                record,
                sleep=no_wait,
            )
        finally:
            await sender.close()
    assert outcome.delivered and outcome.attempts == 3
    assert attempts == [(1, 503, Next.RETRY), (2, 500, Next.RETRY), (3, 200, Next.DONE)]
    assert len(receiver.requests) == 3 and len(receiver.delivered) == 1
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {"inc-9.opened.c3"}


async def test_a_receiver_that_keeps_failing_is_dead_lettered_with_its_answer() -> None:
    outcomes: list[Next] = []

    async def record(number: int, answer: Answer, following: Next, wait: float | None) -> None:
        outcomes.append(following)

    async def no_wait(_: float) -> None:
        pass

    async with webhook_receiver(script=[500] * 10) as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        request = ch.build_request(ch.SlackChannel(url=receiver.url), OPEN, "k", timestamp=0)
        try:
            outcome = await deliver(
                lambda: sender.post(request), record, max_attempts=4, sleep=no_wait
            )
        finally:
            await sender.close()
    assert outcome.dead_lettered and outcome.attempts == 4
    assert outcome.last.status == 500 and outcome.last.excerpt == "refused with 500"
    assert outcomes[-1] is Next.DEAD_LETTER and len(receiver.requests) == 4


async def test_without_the_allowlist_internal_webhook_urls_are_refused_and_never_retried() -> None:
    """The egress guard (ADR 0027) at send time: loopback and cloud metadata are refused."""
    async with webhook_receiver(secret="whsec") as receiver:
        sender = HttpxWebhookSender(timeout_s=5)  # the default policy: public addresses only
        try:
            answers = [
                await sender.post(
                    ch.build_request(
                        ch.WebhookChannel(url=url, secret="whsec"), OPEN, "k", timestamp=1
                    )
                )
                for url in (
                    receiver.url,
                    receiver.url.replace("127.0.0.1", "localhost"),
                    "http://169.254.169.254/latest/meta-data/",
                )
            ]
        finally:
            await sender.close()
    assert [(a.ok, a.error) for a in answers] == [(False, NOT_ALLOWED)] * 3, answers
    assert all(after(a, attempt=1) is Next.DEAD_LETTER for a in answers)
    assert receiver.requests == []


async def test_a_webhook_name_is_resolved_once_and_its_host_kept() -> None:
    async with webhook_receiver(secret="whsec") as receiver:
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        url = receiver.url.replace("127.0.0.1", "localhost")
        try:
            channel = ch.WebhookChannel(url=url, secret="whsec")
            answer = await sender.post(
                ch.build_request(channel, OPEN, "k2", timestamp=int(time.time()))
            )
        finally:
            await sender.close()
    assert answer.ok, answer
    [got] = receiver.requests
    assert got.headers["host"] == httpx.URL(url).netloc.decode()
