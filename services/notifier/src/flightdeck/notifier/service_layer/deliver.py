"""One delivery: attempts until the receiver takes it, a dead letter after too many.

Every attempt is reported (``on_attempt``) with its number, the answer and what
follows, so the caller records a ``NotificationSent`` or ``NotificationFailed``
per attempt. The waits are the runtime's ``NOTIFY`` policy (backoff with jitter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flightdeck.notifier.domain import delivery
from flightdeck.notifier.domain.delivery import Answer, Next
from flightdeck.runtime.retries import NOTIFY, Policy

Attempt = Callable[[], Awaitable[Answer]]
OnAttempt = Callable[[int, Answer, Next, float | None], Awaitable[None]]
"""Told of each attempt: its number, the answer, what follows and, for a retry, the wait."""


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    last: Answer

    @property
    def dead_lettered(self) -> bool:
        return not self.delivered


async def deliver(
    attempt: Attempt,
    on_attempt: OnAttempt,
    *,
    max_attempts: int = delivery.MAX_ATTEMPTS,
    policy: Policy = NOTIFY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Outcome:
    number = 0
    while True:
        number += 1
        answer = await attempt()
        following = delivery.after(answer, number, max_attempts)
        wait = policy.delay(number) if following is Next.RETRY else None
        await on_attempt(number, answer, following, wait)
        if following is Next.DONE:
            return Outcome(True, number, answer)
        if following is Next.DEAD_LETTER or wait is None:
            return Outcome(False, number, answer)
        await sleep(wait)
