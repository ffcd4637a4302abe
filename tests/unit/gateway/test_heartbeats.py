"""SSE timers: a heartbeat per quiet period, not per tick; idle time counts events only."""

from dataclasses import dataclass
from typing import Any, cast

import pytest

from flightdeck.gateway.entrypoints.sse import SseConnection, SseTimings

pytestmark = pytest.mark.unit


@dataclass
class QuietSubscription:
    last_write: float = 0.0
    wakes: int = 0

    def wake_writer(self) -> None:
        self.wakes += 1


def connection(sub: QuietSubscription, heartbeat_s: float = 15.0, idle_s: float = 60.0) -> Any:
    timings = SseTimings(
        retry_ms=3000,
        heartbeat_s=heartbeat_s,
        close_after_done_s=5,
        idle_timeout_s=idle_s,
        slow_close_grace_s=2,
    )
    return SseConnection(cast(Any, sub), timings, cast(Any, None), cast(Any, None), "acme")


def heartbeats_over(conn: Any, seconds: int) -> list[int]:
    """The ticks (one a second, as the gateway's ticker runs) that asked for a heartbeat."""
    due = []
    for now in range(1, seconds + 1):
        conn.tick(float(now))
        if conn.heartbeat_due:
            due.append(now)
            conn.heartbeat_due = False  # the writer sent it
    return due


def test_a_quiet_stream_gets_one_heartbeat_every_period() -> None:
    conn = connection(QuietSubscription())
    assert heartbeats_over(conn, 50) == [15, 30, 45]
    assert conn.closing is None


def test_an_event_restarts_the_quiet_period_and_heartbeats_do_not_keep_it_open() -> None:
    sub = QuietSubscription()
    conn = connection(sub, heartbeat_s=15.0, idle_s=40.0)
    sub.last_write = 10.0  # an event at t=10
    assert heartbeats_over(conn, 39) == [25]
    conn.tick(50.0)
    assert conn.closing == "idle timeout"
