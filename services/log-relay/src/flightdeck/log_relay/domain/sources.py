"""Which stream a line came from, when the API will not say.

The pods/log API interleaves stdout and stderr without marking them (only a
container runtime's own files do), so the relay infers the stream from the
level: warnings and worse conventionally go to stderr. Every line says it was
inferred, so a reader can tell a guess from a fact.
"""

from __future__ import annotations

from flightdeck.events.logs import LogLevel, LogSource

_STDERR_LEVELS = frozenset((LogLevel.WARN, LogLevel.ERROR, LogLevel.FATAL))


def infer_source(level: LogLevel) -> LogSource:
    """``stderr`` for WARN, ERROR and FATAL lines; ``stdout`` for everything else."""
    return LogSource.STDERR if level in _STDERR_LEVELS else LogSource.STDOUT
