"""The prober's pure half: judging a response, figures over checks, the verdict."""

from __future__ import annotations

import pytest

from flightdeck.events.deployments import Colour
from flightdeck.prober.domain.checks import Result, Target, judge, unreachable
from flightdeck.prober.domain.stats import colour_stats, percentile, verdict

pytestmark = pytest.mark.unit


def test_a_response_passes_on_the_expected_status_and_body() -> None:
    target = Target("http://x/health", body_contains="ok")
    assert judge(target, 200, '{"status":"ok"}', 3.0).ok
    assert judge(target, 503, "ok", 3.0).error == "status 503, expected 200"
    assert judge(target, 200, "fine", 3.0).error == "body lacks 'ok'"


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([5.0], 99, 5.0),
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 99, 4),
        (list(range(1, 101)), 99, 99),
    ],
)
def test_nearest_rank_percentiles(values, q, expected) -> None:
    assert percentile(values, q) == expected


def test_stats_count_failures_and_time_only_answers() -> None:
    results = [
        Result(True, 200, 4.0),
        Result(True, 200, 8.0),
        unreachable("refused", 1.0),
        Result(False, 500, 2.0),
    ]
    stats = colour_stats(Colour.GREEN, results)
    assert (stats.checks, stats.failures, stats.error_rate) == (4, 2, 0.5)
    assert (stats.latency_p50_ms, stats.latency_p99_ms) == (4.0, 8.0)


def test_the_verdict() -> None:
    ok = colour_stats(Colour.GREEN, [Result(True, 200, 1.0)] * 5)
    one_bad = colour_stats(Colour.GREEN, [Result(True, 200, 1.0)] * 4 + [unreachable("x")])
    assert verdict(ok) == (True, None)
    assert verdict(one_bad) == (False, "1 of 5 health checks of green failed")
    assert verdict(one_bad, max_failures=1) == (True, None)
    assert verdict(colour_stats(Colour.GREEN, []))[0] is False
