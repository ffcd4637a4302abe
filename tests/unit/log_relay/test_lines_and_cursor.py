"""Kubelet lines into LogLines; cursors that resume without repeating a line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.events.logs import LogLevel, LogSource
from flightdeck.log_relay.domain.cursor import (
    Cursor,
    ResumeFilter,
    advance,
    advance_all,
    since_seconds,
)
from flightdeck.log_relay.domain.lines import TRUNCATED, LineParser, split_timestamp
from flightdeck.log_relay.domain.sources import infer_source

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


@pytest.mark.parametrize(
    ("line", "time", "text"),
    [
        ("2026-11-25T10:00:00.123456789Z hello", T0.replace(microsecond=123456), "hello"),
        ("2026-11-25T10:00:00.5Z  two spaces", T0.replace(microsecond=500000), " two spaces"),
        ("2026-11-25T10:00:00Z x", T0, "x"),
        ("2026-11-25T10:00:00.000001+00:00 x", T0.replace(microsecond=1), "x"),
        ("2026-11-25T10:00:00.1Z ", T0.replace(microsecond=100000), ""),
        ("no timestamp here", None, "no timestamp here"),
        (
            "2026-11-25Tgarbage-garbage-garbage more",
            None,
            "2026-11-25Tgarbage-garbage-garbage more",
        ),
    ],
)
def test_split_timestamp(line: str, time: datetime | None, text: str) -> None:
    assert split_timestamp(line) == (time, text)


def test_parser_makes_lines_with_level_and_inferred_source() -> None:
    parser = LineParser()
    error = parser.parse(b'2026-11-25T10:00:00.000001Z {"level":"error","msg":"x"}', at(0))
    frame = parser.parse(b"2026-11-25T10:00:00.000002Z \tat Foo.bar(Foo.java:1)\r", at(0))
    info = parser.parse(b"2026-11-25T10:00:00.000003Z INFO ok", at(0))

    assert (error.level, error.source, error.source_inferred) == (
        LogLevel.ERROR,
        LogSource.STDERR,
        True,
    )
    assert (frame.level, frame.text) == (LogLevel.ERROR, "\tat Foo.bar(Foo.java:1)")
    assert (info.level, info.source, info.time) == (
        LogLevel.INFO,
        LogSource.STDOUT,
        at(0).replace(microsecond=3),
    )


def test_parser_survives_bad_bytes_long_lines_and_missing_timestamps() -> None:
    parser = LineParser(max_line_bytes=64)
    first = parser.parse(b"2026-11-25T10:00:00.5Z caf\xc3\xa9 \xff", at(9000))
    untimed = parser.parse(b"continuation without a timestamp", at(9000))
    long = parser.parse(b"2026-11-25T10:00:01Z " + b"y" * 200, at(9000))
    fresh = LineParser().parse(b"no time at all", at(9000))

    assert first.text == "café \ufffd"
    assert untimed.time == first.time, "a line without a time keeps its place in order"
    assert long.text.endswith(TRUNCATED) and len(long.text) < 80
    assert fresh.time == at(9000)


def test_source_is_inferred_from_the_level() -> None:
    assert {level: infer_source(level) for level in LogLevel} == {
        LogLevel.TRACE: LogSource.STDOUT,
        LogLevel.DEBUG: LogSource.STDOUT,
        LogLevel.INFO: LogSource.STDOUT,
        LogLevel.UNKNOWN: LogSource.STDOUT,
        LogLevel.WARN: LogSource.STDERR,
        LogLevel.ERROR: LogSource.STDERR,
        LogLevel.FATAL: LogSource.STDERR,
    }


def test_cursor_counts_lines_sharing_the_last_timestamp() -> None:
    c = advance(None, at(1), 0, "u")
    c = advance(c, at(2), 0, "u")
    c = advance(c, at(2), 1, "u")
    stale = advance(c, at(1), 1, "u")

    assert c == Cursor(time=at(2), count=2, restarts=1, pod_uid="u")
    assert stale == c, "a line stamped earlier never moves the cursor back"
    assert advance_all(None, [at(1), at(2), at(2)], 1, "u") == c
    assert advance_all(c, [at(2)], 1, "u") == Cursor(time=at(2), count=3, restarts=1, pod_uid="u")
    assert advance_all(c, [], 5, "v") == c
    assert advance_all(None, [], 0, "u") is None


def test_resume_skips_exactly_what_the_cursor_covers() -> None:
    log = [at(1), at(2), at(2), at(2), at(3), at(3), at(4)]
    for relayed in range(len(log) + 1):
        cursor = advance_all(None, log[:relayed], 0, "u")
        gate = ResumeFilter(cursor)
        admitted = [t for t in log if gate.admit(t)]
        assert admitted == log[relayed:], f"after {relayed} lines"
        assert gate.skipped == relayed


def test_resume_opens_for_good_at_the_first_new_line() -> None:
    gate = ResumeFilter(Cursor(time=at(5), count=1))

    assert [gate.admit(t) for t in (at(4), at(5), at(6), at(3), at(5))] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert gate.open and ResumeFilter(None).admit(at(0))


def test_since_seconds_always_reaches_back_past_the_cursor() -> None:
    assert since_seconds(at(0), at(0)) == 1
    assert since_seconds(at(0), at(1)) == 2
    assert since_seconds(at(0), at(1000)) == 2
    assert since_seconds(at(0), at(1001)) == 3
    assert since_seconds(at(5000), at(0)) == 1, "a cursor ahead of our clock (skew)"
