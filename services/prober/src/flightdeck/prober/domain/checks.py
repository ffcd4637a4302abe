"""One HTTP check: what was asked, what came back, and whether that is a pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

REFUSED = "VERIFY_TARGET_INVALID"
"""The code of a verification that could not run: the target cannot be sent."""

_HOST = re.compile(r"(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


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


def refusal(target: Target) -> str | None:
    """Why ``target`` cannot be sent as an HTTP request at all, or ``None`` if it can.

    Such a target fails every check the same way, so the verification is refused
    at once instead of being retried until the stage deadline. The reason never
    echoes a control character.
    """
    url = target.url
    bad = _control(url)
    if bad is not None:
        return f"the health URL {_printable(url)} has a control character at {bad}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"the health URL {url} has an invalid port"
    if parts.scheme not in ("http", "https"):
        return f"the health URL {url} must be http or https"
    if not parts.hostname:
        return f"the health URL {url} has no host"
    if port == 0:
        return f"the health URL {url} has an invalid port"
    host = target.host
    if host is not None and not _HOST.fullmatch(host):
        return f"the Host header {_printable(host)} is not a host name"
    return None


def _control(text: str) -> int | None:
    """The position of the first control character (CR, LF, NUL, DEL…), if any."""
    for index, ch in enumerate(text):
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return index
    return None


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
