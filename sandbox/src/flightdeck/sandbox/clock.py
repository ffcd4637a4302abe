"""Time in the sandbox: wall-clock timestamps, simulated durations.

Objects carry real timestamps (kubectl computes AGE from them); the simulated
controllers schedule their steps on the monotonic clock, with simulated
seconds divided by the speed factor.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime | None = None) -> str:
    """Second precision, as ``metav1.Time`` serialises: ``2026-11-25T10:00:00Z``."""
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(moment: datetime | None = None) -> str:
    """Microsecond precision, as ``metav1.MicroTime`` serialises."""
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_nano(moment: datetime) -> str:
    """The prefix ``kubectl logs --timestamps`` prints (nanoseconds, zero padded)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def parse(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset, optional fraction)."""
    cleaned = text.strip().replace("Z", "+00:00")
    if "." in cleaned:
        head, _, rest = cleaned.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        cleaned = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    moment = datetime.fromisoformat(cleaned)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock:
    """Turns simulated seconds into monotonic deadlines.

    Args:
        speed: simulated seconds per wall-clock second.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed if speed > 0 else 1.0

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self, simulated: float) -> float:
        return simulated / self.speed

    def after(self, simulated: float) -> float:
        """The monotonic time ``simulated`` seconds from now."""
        return time.monotonic() + simulated / self.speed
