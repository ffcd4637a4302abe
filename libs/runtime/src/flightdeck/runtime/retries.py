"""Every retry and backoff in Flightdeck: named policies, with jitter, on stamina.

A wait grows by ``wait_exp_base`` per consecutive failure and is capped, plus a
random jitter (stamina's formula: ``min(wait_max, wait_initial * wait_exp_base
** (n - 1) + uniform(0, wait_jitter))`` before retry ``n``). The jitter is why
this module exists: replicas, a supervisor's children or many feeds that fail
together (NATS restarting) no longer retry in lockstep. So every wait is a
little longer than the plain doubling it replaced (``flightdeck up`` reports
"restarting in 1s" or "2s" for the first restart, not always "1s"), and at the
cap the jitter is cut off.

Two ways to use a policy:

- :meth:`Policy.retrying` runs code until it works: stamina drives the attempts
  (``async for attempt in …: with attempt: …``, or :meth:`Retrying.call`), the
  policy gives each wait, which is handed to ``report`` before it is slept (a
  log line, "restarting in 2s"), and a loop that made progress calls
  :meth:`Retrying.reset` so its next failure waits the shortest delay again.
- :meth:`Policy.delay` is the wait alone, for code that waits on its own terms:
  a nak's redelivery delay (the server waits), a poll that also wakes for a
  deadline.

Tests run these loops without waiting under ``stamina.set_testing(True,
attempts=n)``: every wait is 0 and a loop that retries forever gives up after
``n`` attempts with its last error.

Not here: the event store's append retry (``EventStore._append_messages``). Its
loop is the lost-acknowledgement protocol (after a timeout, a wrong-sequence
answer means "look whether my first attempt landed"), it sits on the measured
append path (stamina's loop costs ~25-55 µs a call, as much as a pipelined
append), and the store is a layer below this package, which it must not import.
It keeps its short, bounded doubling (5 attempts, 0.1 s … 0.8 s apart).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import stamina

P = ParamSpec("P")
T = TypeVar("T")
Report = Callable[[Exception, float], None]
"""Told of each failure that will be retried, and how many seconds until the retry."""
Retryable = type[Exception] | tuple[type[Exception], ...]


@dataclass(frozen=True)
class Policy:
    """How long to wait between attempts.

    Args:
        name: what is retried, for reading logs and this module.
        wait_initial: the wait before the first retry (before jitter).
        wait_max: no wait is longer, jitter included.
        wait_jitter: up to this many seconds are added at random to each wait.
        wait_exp_base: each consecutive failure multiplies the wait by this
            (``1``: a steady pace, jittered).
        attempts: give up after this many (``None``: until it works).
    """

    name: str
    wait_initial: float
    wait_max: float
    wait_jitter: float
    wait_exp_base: float = 2.0
    attempts: int | None = None

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 after the first failure);
        0 in stamina's testing mode."""
        if stamina.is_testing():
            return 0.0
        jitter = random.uniform(0, self.wait_jitter) if self.wait_jitter else 0.0
        try:
            grown = self.wait_initial * self.wait_exp_base ** (max(retry, 1) - 1)
        except OverflowError:
            return self.wait_max
        return min(self.wait_max, grown + jitter)

    def retrying(self, on: Retryable, report: Report | None = None) -> Retrying:
        """A retry loop over failures of the types ``on`` (any other error ends it)."""
        return Retrying(self, on, report)


class Retrying:
    """One retry loop: stamina's attempts, this policy's waits, and the failure count.

    ``async for attempt in retrying: with attempt: ...`` runs the block until it
    completes without one of the ``on`` errors; :meth:`call` does the same for a
    single awaitable.
    """

    def __init__(self, policy: Policy, on: Retryable, report: Report | None) -> None:
        self.policy = policy
        self.failures = 0
        self._on = on
        self._report = report

    def reset(self) -> None:
        """It worked for a while: the next failure waits the shortest delay again."""
        self.failures = 0

    def __aiter__(self) -> AsyncIterator[stamina.Attempt]:
        return stamina.retry_context(self._backoff, **self._stamina()).__aiter__()

    async def call(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await fn(*args, **kwargs)`` until it returns.

        The first attempt is a plain call, so a path that works pays nothing for
        its retries; stamina takes over from the first failure.
        """
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, self._on):
                raise
            first: Exception | None = exc

        async def again() -> T:
            nonlocal first
            if first is not None:  # stamina's first attempt is the failure we already had
                failure, first = first, None
                raise failure
            return await fn(*args, **kwargs)

        caller = stamina.AsyncRetryingCaller(**self._stamina())
        return await caller(self._backoff, again)

    def _backoff(self, exc: Exception) -> float | bool:
        """stamina's backoff hook: ``False`` lets ``exc`` through; a number is the wait."""
        if not isinstance(exc, self._on):
            return False
        self.failures += 1
        wait = self.policy.delay(self.failures)
        if self._report is not None:
            self._report(exc, wait)
        return wait

    def _stamina(self) -> dict[str, Any]:
        p = self.policy
        return {
            "attempts": p.attempts,
            "timeout": None,
            "wait_initial": p.wait_initial,
            "wait_max": p.wait_max,
            "wait_jitter": p.wait_jitter,
            "wait_exp_base": p.wait_exp_base,
        }


def logged(logger: Any, event: str, **fields: Any) -> Report:
    """A report that logs a warning: ``event``, ``fields``, the error and ``retry_in_s``."""

    def report(exc: Exception, wait: float) -> None:
        logger.warning(event, **fields, error=repr(exc), retry_in_s=round(wait, 2))

    return report


# ---------------------------------------------------------------- the policies

RESTART = Policy("restart a process", wait_initial=1.0, wait_max=30.0, wait_jitter=1.0)
"""``flightdeck up`` restarting nats-server or a service: 1 s, 2 s, 4 s … 30 s."""

RECONNECT = Policy("reconnect", wait_initial=0.25, wait_max=10.0, wait_jitter=0.25)
"""A reader of a server that went away (a Kubernetes watch and list, the projector)."""

FEED = Policy("reopen a feed", wait_initial=0.1, wait_max=1.0, wait_jitter=0.1)
"""A feed with a promised lag (revocations reach every gateway within a second)."""

APPEND = Policy("append until acknowledged", wait_initial=0.1, wait_max=5.0, wait_jitter=0.1)
"""An append that NATS did not acknowledge (the log relay's publisher)."""

REDELIVER = Policy(
    "redeliver a failed message", wait_initial=0.3, wait_max=10.0, wait_jitter=0.2, wait_exp_base=3
)
"""A durable consumer's nak delay per failed delivery: 0.3 s, 0.9 s, 2.7 s, 8.1 s, 10 s."""


def poll(interval_s: float, max_s: float) -> Policy:
    """Polling a registry: every ``interval_s`` (up to a tenth more), doubled per
    consecutive failure up to ``max_s``; ``delay(failures + 1)`` is the next poll."""
    return Policy(
        "poll",
        wait_initial=interval_s,
        wait_max=max(max_s, interval_s),
        wait_jitter=interval_s / 10,
    )


def lease_standby(ttl_s: float) -> Policy:
    """A standby trying to take a lease of ``ttl_s``: every quarter to third of the TTL."""
    return Policy(
        "take the lease",
        wait_initial=ttl_s / 4,
        wait_max=ttl_s / 3,
        wait_jitter=ttl_s / 12,
        wait_exp_base=1.0,
    )


NOTIFY = Policy(
    "deliver a notification",
    wait_initial=1.0,
    wait_max=60.0,
    wait_jitter=1.0,
    attempts=5,
)
"""The notifier's wait between attempts at one delivery: 1 s, 2 s, 4 s, 8 s (each up to
1 s more); the notifier's domain (``delivery.after``) decides retry or dead letter."""
