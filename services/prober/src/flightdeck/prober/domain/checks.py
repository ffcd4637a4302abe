"""One HTTP check: what was asked, what came back, and whether that is a pass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """What to check: ``url``, sent with ``host`` as the Host header when given."""

    url: str
    host: str | None = None
    timeout_s: float = 5.0
    expected_status: int = 200
    body_contains: str | None = None


@dataclass(frozen=True)
class Result:
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error: str | None = None


def judge(target: Target, status_code: int, body: str, latency_ms: float) -> Result:
    """A response is a pass when its status is the expected one and the body has the text."""
    if status_code != target.expected_status:
        return Result(
            False,
            status_code,
            latency_ms,
            f"status {status_code}, expected {target.expected_status}",
        )
    if target.body_contains is not None and target.body_contains not in body:
        return Result(False, status_code, latency_ms, f"body lacks {target.body_contains!r}")
    return Result(True, status_code, latency_ms)


def unreachable(error: str, latency_ms: float | None = None) -> Result:
    """No response at all (refused, timed out, reset)."""
    return Result(False, None, latency_ms, error)
