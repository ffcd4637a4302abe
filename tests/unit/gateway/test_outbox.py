"""The backpressure policy: hold during replay, splice at the seam, bound, cut off."""

from __future__ import annotations

import pytest

from flightdeck.gateway.domain.outbox import Outbox

pytestmark = pytest.mark.unit


def test_live_events_held_during_replay_are_spliced_without_duplicates() -> None:
    box = Outbox(limit=10, after=0)
    for position in (4, 5, 6):  # arrived while history (up to 5) was being read
        assert box.offer(position, b"%d" % position) is False
    assert box.go_live(5) is True
    assert box.drain() == ([b"6"], 6)


def test_nothing_after_the_seam_means_no_wake() -> None:
    box = Outbox(limit=10)
    box.offer(3, b"3")
    assert box.go_live(3) is False
    assert box.drain() == ([], 3)


def test_first_pending_wakes_the_writer_and_later_ones_do_not() -> None:
    box = Outbox(limit=10)
    box.go_live(0)
    assert box.offer(1, b"a") is True
    assert box.offer(2, b"b") is False
    assert box.drain() == ([b"a", b"b"], 2)
    assert box.offer(2, b"again") is False  # a redelivery is dropped
    assert box.offer(3, b"c") is True


def test_overflow_cuts_off_and_resumes_after_the_last_written() -> None:
    box = Outbox(limit=2)
    box.go_live(0)
    box.offer(1, b"a")
    _, end = box.drain()
    box.written(end)
    box.offer(2, b"b")
    box.offer(3, b"c")
    assert box.offer(4, b"d") is True
    assert box.overflowed
    assert box.pending == 0
    assert box.resume_from == 1
    assert box.offer(5, b"e") is False


def test_overflow_while_replaying() -> None:
    box = Outbox(limit=1)
    box.offer(7, b"x")
    assert box.offer(8, b"y") is True
    assert box.overflowed
    assert box.go_live(6) is True


def test_terminal_is_remembered() -> None:
    box = Outbox(limit=5)
    box.go_live(0)
    box.offer(1, b"done", terminal=True)
    assert box.terminal
