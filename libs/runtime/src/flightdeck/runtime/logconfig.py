"""Structured logs (structlog) for every process, human or JSON.

Library logs that go through the standard ``logging`` module (nats-py, uvicorn)
are rendered the same way, so one process prints one format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import stamina.instrumentation
import structlog


def configure_logging(service: str, level: str = "info", fmt: str = "console") -> None:
    """Send every log line of this process to stderr, tagged with ``service``."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks never show local variables: a frame may hold a key or a password.
    renderers: list[Any] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ]
        if fmt == "json"
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(),
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
            )
        ]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)
    # Each retry loop logs its own line, naming what it retries (flightdeck.runtime.retries);
    # stamina's would repeat it as "<context block>".
    stamina.instrumentation.set_on_retry_hooks(())
