"""What reading a container's log asks for, and how it fails.

The follower (service layer) and the pods/log adapter share these without
importing each other: the adapter turns its HTTP client's errors into
:class:`LogStreamBroken` (the layering contracts in the root ``pyproject.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogRequest:
    """One read of a container's log. ``since_seconds``/``tail_lines`` ``None`` mean no limit.

    ``pod_uid`` and ``run`` (the restart count whose log is wanted) name the files
    in node mode; the pods/log API needs neither (``previous`` says which run).
    """

    follow: bool = True
    previous: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    pod_uid: str = ""
    run: int | None = None


class LogUnavailable(Exception):
    """The API has no such log right now: the container is still waiting, or gone."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class LogStreamBroken(Exception):
    """The connection under a log stream failed (reset, refused, a bad chunk)."""


STREAM_ERRORS = (LogStreamBroken, TimeoutError, OSError)
"""A stream that broke (connection reset, idle too long): resume from the cursor."""
