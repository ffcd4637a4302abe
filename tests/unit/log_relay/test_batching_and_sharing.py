"""Batches (size, markers, ids) and which replica should follow which container."""

from __future__ import annotations

from collections import Counter, deque
from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.events.logs import LogLevel, LogLine, LogSource
from flightdeck.log_relay.domain.batching import (
    BatchPolicy,
    Gap,
    Pending,
    RunStarted,
    due,
    event_id,
    take,
)
from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.selection import ContainerKey
from flightdeck.log_relay.domain.sharing import preferred_owner

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


def line(n: int, size: int = 10) -> LogLine:
    return LogLine(
        time=T0 + timedelta(microseconds=n),
        source=LogSource.STDOUT,
        source_inferred=True,
        level=LogLevel.INFO,
        text=str(n).ljust(size, "."),
    )


def test_a_batch_is_due_when_full_or_when_its_oldest_line_waited_long_enough() -> None:
    policy = BatchPolicy(max_lines=10, linger_s=0.05)

    assert due(policy, 10, 0.0) and due(policy, 1, 0.05)
    assert not due(policy, 9, 0.049)


def test_take_respects_lines_bytes_and_markers() -> None:
    policy = BatchPolicy(max_lines=3, max_bytes=200)
    pending: deque[Pending] = deque(
        [RunStarted(0), line(1), line(2), line(3), line(4), Gap("lost"), line(5, 150), line(6, 150)]
    )

    taken = [take(pending, policy) for _ in range(6)]

    assert taken == [
        RunStarted(0),
        [line(1), line(2), line(3)],
        [line(4)],
        Gap("lost"),
        [line(5, 150)],
        [line(6, 150)],
    ]
    assert not pending


def test_a_line_larger_than_a_batch_still_goes_out_alone() -> None:
    pending: deque[Pending] = deque([line(1, 5000), line(2)])

    assert take(pending, BatchPolicy(max_bytes=100)) == [line(1, 5000)]


def test_event_ids_depend_on_the_first_line_only() -> None:
    first = Cursor(time=T0, count=2)
    same = event_id("ns", "pod", "app", first)

    assert same == event_id("ns", "pod", "app", Cursor(time=T0, count=2, restarts=9, pod_uid="x"))
    assert (
        len(
            {
                same,
                event_id("ns", "pod", "app", Cursor(time=T0, count=3)),
                event_id("ns", "pod", "sidecar", first),
                event_id("ns", "pod2", "app", first),
                event_id("ns", "pod", "app", first, kind="lost"),
            }
        )
        == 5
    )
    assert len(same) == 32 and int(same, 16) >= 0


KEYS = [ContainerKey("ns", f"pod-{i}", c) for i in range(300) for c in ("app", "sidecar")]


def test_every_replica_names_the_same_owner_and_the_work_spreads() -> None:
    members = ["relay-a", "relay-b", "relay-c"]
    owners = {k: preferred_owner(k, members) for k in KEYS}

    assert owners == {k: preferred_owner(k, list(reversed(members))) for k in KEYS}
    assert all(80 <= n <= 320 for n in Counter(owners.values()).values())
    assert preferred_owner(KEYS[0], []) is None


def test_a_joining_replica_takes_only_its_share() -> None:
    before = {k: preferred_owner(k, ["relay-a", "relay-b"]) for k in KEYS}
    after = {k: preferred_owner(k, ["relay-a", "relay-b", "relay-c"]) for k in KEYS}

    moved = [k for k in KEYS if before[k] != after[k]]
    assert all(after[k] == "relay-c" for k in moved)
    assert 0 < len(moved) < len(KEYS) / 2
