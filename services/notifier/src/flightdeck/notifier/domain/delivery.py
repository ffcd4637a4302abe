"""One delivery's attempts: what a receiver answered, whether to try again, and when
to give up (the dead letter).

The policy, documented here and in ADR 0028: an attempt that failed for a reason
that may pass (no connection, a timeout, HTTP 408, 425, 429 or 5xx, an SMTP 4xx)
is retried after the runtime's ``NOTIFY`` wait (exponential with jitter:
about 1 s, 2 s, 4 s, 8 s … capped at 60 s); after ``max_attempts`` attempts, or at
once for an answer that will not change (another 4xx: a wrong URL, a revoked
webhook, an SMTP 5xx), the delivery is dead-lettered: recorded as failed for
good, with the last answer, and never tried again by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

EXCERPT_CHARS = 512
"""At most this much of a receiver's answer is kept in an event."""
MAX_ATTEMPTS = 5
"""Attempts per delivery before it is dead-lettered (a setting may change it)."""

RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Answer:
    """What the receiver said to one attempt.

    ``status``: the HTTP status or (``smtp``) the SMTP reply code, ``None`` when no answer came
    (``error`` says why: ``connect``, ``timeout``, ``tls`` …). ``excerpt``: the start
    of the body (or the SMTP reply text), at most :data:`EXCERPT_CHARS`.
    """

    ok: bool
    status: int | None
    excerpt: str = ""
    error: str | None = None
    smtp: bool = False


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def http_answer(status: int, body: str) -> Answer:
    return Answer(ok=200 <= status < 300, status=status, excerpt=excerpt(body))


NOT_ALLOWED = "not_allowed"
"""The egress guard refused the address (ADR 0027): a decision, not a failure to retry."""


def retryable(answer: Answer) -> bool:
    """Would trying again maybe help?"""
    if answer.ok or answer.error == NOT_ALLOWED:
        return False
    if answer.status is None:
        return True  # nothing answered: the network, a timeout, a server not up
    if answer.smtp:
        return 400 <= answer.status < 500  # SMTP 4xx: transient by definition (RFC 5321)
    return answer.status in RETRYABLE_STATUS or 500 <= answer.status < 600


class Next(StrEnum):
    DONE = "done"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


def after(answer: Answer, attempt: int, max_attempts: int = MAX_ATTEMPTS) -> Next:
    """What follows attempt number ``attempt`` (from 1) that got ``answer``."""
    if answer.ok:
        return Next.DONE
    if retryable(answer) and attempt < max_attempts:
        return Next.RETRY
    return Next.DEAD_LETTER
