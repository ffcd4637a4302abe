"""How a simulated container behaves, read from its image tag and environment.

Tests choose failures through what a real deployment would change anyway:
the image tag (``app:v2-crash``) or the container's env
(``SANDBOX_FAILURE_RATE=0.5``). Nothing outside the pod spec is consulted: the
health endpoint is ``SANDBOX_HEALTH_PATH``, else the readiness probe's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightdeck.sandbox.config import Markers

HEALTH_PATH = "SANDBOX_HEALTH_PATH"
LATENCY_MS = "SANDBOX_LATENCY_MS"
FAILURE_RATE = "SANDBOX_FAILURE_RATE"
LOG_RATE = "SANDBOX_LOG_RATE"


def image_tag(image: str) -> str:
    """The tag of an image reference (``latest`` when none, ``""`` for a digest-only ref)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1]
    return "" if "@" in image else "latest"


def _env(container: dict[str, Any], name: str) -> str | None:
    for entry in container.get("env") or []:
        if entry.get("name") == name and "value" in entry:
            return str(entry["value"])
    return None


def _probe_path(container: dict[str, Any]) -> str | None:
    """The app's health endpoint as its pod spec declares it: the readiness probe's path."""
    for probe in ("readinessProbe", "livenessProbe"):
        path = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
        if path:
            return str(path)
    return None


def _number(text: str | None, default: float) -> float:
    try:
        return float(text) if text not in (None, "") else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Behaviour:
    pull_fails: bool
    crashes: bool
    unhealthy: bool
    health_path: str
    latency_ms: float
    failure_rate: float
    log_rate: float


def of(container: dict[str, Any], markers: Markers, default_log_rate: float) -> Behaviour:
    """What a container does, from its image tag markers and ``SANDBOX_*`` env vars."""
    tag = image_tag(str(container.get("image", "")))
    return Behaviour(
        pull_fails=bool(markers.pull_failure) and tag.endswith(markers.pull_failure),
        crashes=bool(markers.crash) and tag.endswith(markers.crash),
        unhealthy=bool(markers.unhealthy) and tag.endswith(markers.unhealthy),
        health_path=_env(container, HEALTH_PATH) or _probe_path(container) or "/healthz",
        latency_ms=max(0.0, _number(_env(container, LATENCY_MS), 2.0)),
        failure_rate=min(1.0, max(0.0, _number(_env(container, FAILURE_RATE), 0.0))),
        log_rate=max(0.0, _number(_env(container, LOG_RATE), default_log_rate)),
    )
