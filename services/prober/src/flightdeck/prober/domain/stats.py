"""Figures over a series of checks, and the verdict on a new colour."""

from __future__ import annotations

import math
from collections.abc import Sequence

from flightdeck.events.deployments import Colour, ColourStats
from flightdeck.prober.domain.checks import Result


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def colour_stats(colour: Colour, results: Sequence[Result]) -> ColourStats:
    """Latency percentiles over the checks that answered, and the error rate over all."""
    latencies = [r.latency_ms for r in results if r.ok and r.latency_ms is not None]
    failures = sum(1 for r in results if not r.ok)
    return ColourStats(
        colour=colour,
        checks=len(results),
        failures=failures,
        latency_p50_ms=_round(percentile(latencies, 50)),
        latency_p99_ms=_round(percentile(latencies, 99)),
        error_rate=round(failures / len(results), 4) if results else 0.0,
    )


def verdict(new: ColourStats, max_failures: int = 0) -> tuple[bool, str | None]:
    """Pass when at most ``max_failures`` checks failed (and at least one ran)."""
    if new.checks == 0:
        return False, "no health check ran"
    if new.failures > max_failures:
        return False, f"{new.failures} of {new.checks} health checks of {new.colour.value} failed"
    return True, None


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
