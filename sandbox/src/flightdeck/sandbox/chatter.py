"""What the simulated containers print: mixed levels and formats, cheap to make.

Lines look like real services' output, so log parsers have something to do:
JSON (``{"level":"error","msg":...}``), plain text with a timestamp and a level,
``[warn]`` prefixes, klog (``E1125 10:00:00.123456 ...``) and access logs.
Warnings and errors go mostly to stderr. One random draw per line, no
``strftime``: containers may log tens of thousands of lines a second.
"""

from __future__ import annotations

import random
from datetime import datetime

_MESSAGES = {
    "DEBUG": ("cache lookup", "resolved upstream", "pool stats", "config reloaded", "tick"),
    "INFO": (
        "request served",
        "connected to database",
        "worker started",
        "cache warmed",
        "health check ok",
        "flushed metrics",
    ),
    "WARN": (
        "slow query",
        "retrying upstream request",
        "connection pool nearly exhausted",
        "deprecated header used",
        "high memory usage",
    ),
    "ERROR": (
        "upstream request failed",
        "database timeout",
        "failed to decode payload",
        "unhandled exception in handler",
        "connection reset by peer",
    ),
}
_PATHS = ("/", "/healthz", "/api/orders", "/api/users/42", "/api/cart", "/metrics")
_KLOG = {"DEBUG": "I", "INFO": "I", "WARN": "W", "ERROR": "E"}  # klog has no debug letter
# 100 slots: 15 % DEBUG, 55 % INFO, 18 % WARN, 12 % ERROR.
_LEVELS = ("DEBUG",) * 15 + ("INFO",) * 55 + ("WARN",) * 18 + ("ERROR",) * 12
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LineMaker:
    """One container's chatter, repeatable from a seed."""

    def __init__(self, seed: str, app: str) -> None:
        self._rng = random.Random(seed)
        self._app = app or "app"
        self._count = 0

    def next(self, now: datetime) -> tuple[str, str]:
        """One line: (stream, text)."""
        self._count += 1
        seq, app = self._count, self._app
        bits = self._rng.getrandbits(32)
        level = _LEVELS[bits % 100]
        messages = _MESSAGES[level]
        message = messages[(bits >> 7) % len(messages)]
        path = _PATHS[(bits >> 11) % len(_PATHS)]
        serious = level in ("WARN", "ERROR")
        stream = "stderr" if serious and (bits >> 14) % 5 else "stdout"
        style = (bits >> 17) % 5
        iso = now.isoformat()  # 2026-11-25T10:00:00.123456+00:00
        stamp = iso[:26] + "Z" if len(iso) > 25 and iso[19] == "." else iso[:19] + ".000000Z"
        if style == 0:
            return stream, (
                f'{{"ts":"{stamp}","level":"{level.lower()}","msg":"{message}",'
                f'"app":"{app}","path":"{path}","seq":{seq}}}'
            )
        if style == 1:
            return stream, f"{stamp} {level:<5} [{app}] {message} path={path} seq={seq}"
        if style == 2:
            return stream, f"[{level.lower()}] {message} ({path}, seq {seq})"
        if style == 3:
            return stream, (
                f"{_KLOG[level]}{stamp[5:7]}{stamp[8:10]} {stamp[11:26]}       1 "
                f"{app}.go:{40 + seq % 200}] {message} seq={seq}"
            )
        status = 500 if level == "ERROR" else 200
        when = f"{stamp[8:10]}/{_MONTHS[int(stamp[5:7])]}/{stamp[:4]}:{stamp[11:19]} +0000"
        return stream, (
            f'10.244.0.1 - - [{when}] "GET {path} HTTP/1.1" {status} '
            f'{100 + (bits >> 20) % 3900} "-" "probe/1.0" seq={seq}'
        )
