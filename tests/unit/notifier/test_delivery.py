"""The retry policy: what is retried, with backoff and jitter, and the dead letter."""

from __future__ import annotations

import pytest
import stamina

from flightdeck.notifier.domain.delivery import (
    EXCERPT_CHARS,
    Answer,
    Next,
    after,
    http_answer,
    retryable,
)
from flightdeck.notifier.service_layer.deliver import deliver
from flightdeck.runtime.retries import NOTIFY


@pytest.mark.parametrize(
    ("answer", "again"),
    [
        (http_answer(500, ""), True),
        (http_answer(503, ""), True),
        (http_answer(429, ""), True),
        (http_answer(408, ""), True),
        (Answer(ok=False, status=None, error="connect"), True),
        (Answer(ok=False, status=None, error="timeout"), True),
        (http_answer(404, "no such hook"), False),  # a wrong or revoked URL stays so
        (http_answer(401, ""), False),
        (Answer(ok=False, status=451, smtp=True), True),  # SMTP 4xx: try later
        (Answer(ok=False, status=535, smtp=True), False),  # SMTP 5xx: bad credentials
        (http_answer(200, "ok"), False),
    ],
)
def test_what_is_retried(answer: Answer, again: bool) -> None:
    assert retryable(answer) is again


def test_after_the_last_attempt_a_delivery_is_dead_lettered() -> None:
    failing = http_answer(502, "bad gateway")
    assert [after(failing, n, max_attempts=3) for n in (1, 2, 3)] == [
        Next.RETRY,
        Next.RETRY,
        Next.DEAD_LETTER,
    ]
    assert after(http_answer(410, "gone"), 1, max_attempts=3) is Next.DEAD_LETTER
    assert after(http_answer(204, ""), 1) is Next.DONE


def test_the_receivers_answer_is_kept_bounded() -> None:
    answer = http_answer(500, "x" * 10_000)
    assert len(answer.excerpt) == EXCERPT_CHARS and answer.excerpt.endswith("…")


def test_the_waits_grow_with_jitter_and_are_capped() -> None:
    with stamina.set_testing(False):
        waits = [NOTIFY.delay(n) for n in range(1, 10)]
    for n, wait in enumerate(waits[:5], start=1):
        base = 2.0 ** (n - 1)
        assert base <= wait <= base + NOTIFY.wait_jitter
    assert max(waits) <= NOTIFY.wait_max


async def test_deliver_retries_until_taken_and_reports_each_attempt() -> None:
    answers = iter(
        [http_answer(503, "busy"), Answer(False, None, error="timeout"), http_answer(200, "")]
    )
    seen: list[tuple[int, int | None, Next]] = []
    slept: list[float] = []
    waits: list[float | None] = []

    async def attempt() -> Answer:
        return next(answers)

    async def on_attempt(number: int, answer: Answer, following: Next, wait: float | None) -> None:
        seen.append((number, answer.status, following))
        waits.append(wait)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    outcome = await deliver(attempt, on_attempt, max_attempts=5, sleep=sleep)
    assert outcome.delivered and outcome.attempts == 3
    assert seen == [(1, 503, Next.RETRY), (2, None, Next.RETRY), (3, 200, Next.DONE)]
    assert len(slept) == 2 and waits[:2] == slept and waits[2] is None


async def test_deliver_dead_letters_after_max_attempts() -> None:
    seen: list[Next] = []

    async def attempt() -> Answer:
        return http_answer(500, "down")

    async def on_attempt(number: int, answer: Answer, following: Next, wait: float | None) -> None:
        seen.append(following)

    async def sleep(seconds: float) -> None:
        pass

    outcome = await deliver(attempt, on_attempt, max_attempts=3, sleep=sleep)
    assert outcome.dead_lettered and outcome.attempts == 3
    assert outcome.last.excerpt == "down"
    assert seen == [Next.RETRY, Next.RETRY, Next.DEAD_LETTER]
