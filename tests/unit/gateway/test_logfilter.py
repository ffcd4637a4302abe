"""Log filters, cursors, line rendering and a deployment's log scope: all pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from flightdeck.events import Recorded
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentFailed,
    Stage,
)
from flightdeck.events.logs import LogFollowLost, LogLevel, LogLine, LogLinesCaptured, LogSource
from flightdeck.gateway.domain import deploylogs
from flightdeck.gateway.domain.logfilter import (
    Cursor,
    FilterError,
    LineFilter,
    LogFilter,
    check_tail,
    compile_filter,
    parse_cursor,
    parse_time,
    split_values,
)
from flightdeck.gateway.domain.logrender import (
    ALL_LINES,
    LinePayload,
    LogRendered,
    LogRenderer,
    encode_lines,
    line_payloads,
)
from tests.support.recorded import recorded as recorded_at
from tests.support.samples import requested

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def recorded(event: Any, position: int = 41, at: datetime = T0) -> Recorded[Any]:
    return recorded_at("fd.evt.log.default.web.web-a", event, position=position, at=at, id="e")


def line(level: str, text: str, source: str = "stdout", age: int = 0) -> LogLine:
    return LogLine(
        time=T0 + timedelta(seconds=age),
        source=LogSource(source),
        source_inferred=source == "stderr",
        level=LogLevel(level),
        text=text,
    )


def captured(*lines: LogLine, pod: str = "web-a", container: str = "app") -> LogLinesCaptured:
    return LogLinesCaptured(
        namespace="default", pod=pod, container=container, node="n1", app="web", lines=list(lines)
    )


EVENT = captured(
    line("INFO", "hello"),
    line("ERROR", "db Boom", "stderr", 5),
    line("WARN", "slow", "stderr", 7),
    line("ERROR", "fine", age=9),
)


def kept(f: LogFilter, event: LogLinesCaptured = EVENT) -> list[str]:
    return [event.lines[i].text for i in compile_filter(f).indices(event)]


def test_cursors_name_a_line_or_a_whole_event() -> None:
    assert parse_cursor("41:3") == Cursor(41, 3)
    assert parse_cursor(" 41 ") == Cursor(41)
    assert (Cursor(41, 3).after, Cursor(41).after) == (40, 41)
    assert (str(Cursor(41, 3)), str(Cursor(41))) == ("41:3", "41")
    assert [c.just_before() for c in (Cursor(41, 3), Cursor(41, 0), Cursor(41))] == [
        Cursor(41, 2),
        Cursor(40),
        Cursor(40),
    ]
    for bad in ("", "x", "4:y", "-1", "3:-2", "1:2:3"):
        with pytest.raises(ValueError, match="not a position"):
            parse_cursor(bad)


@pytest.mark.parametrize(
    ("f", "texts"),
    [
        (LogFilter(), ["hello", "db Boom", "slow", "fine"]),
        (LogFilter(levels=["error", "Warning"]), ["db Boom", "slow", "fine"]),
        (LogFilter(sources=["STDERR"]), ["db Boom", "slow"]),
        (LogFilter(keywords=["BOOM", "slo"]), ["db Boom", "slow"]),
        (LogFilter(include=r"^(db|fi)"), ["db Boom", "fine"]),
        (LogFilter(exclude="o"), ["fine"]),
        (
            LogFilter(since=T0 + timedelta(seconds=5), until=T0 + timedelta(seconds=7)),
            ["db Boom", "slow"],
        ),
        (LogFilter(levels=["ERROR"], keywords=["db"], sources=["stderr"]), ["db Boom"]),
        (LogFilter(pods=["web-b"]), []),
        (LogFilter(containers=["app"], pods=["web-a"]), ["hello", "db Boom", "slow", "fine"]),
    ],
)
def test_filters_keep_what_they_say(f: LogFilter, texts: list[str]) -> None:
    assert kept(f) == texts


@pytest.mark.parametrize(
    ("f", "field"),
    [
        (LogFilter(levels=["LOUD"]), "levels"),
        (LogFilter(sources=["stdin"]), "sources"),
        (LogFilter(include="(("), "include"),
        (LogFilter(exclude="a{2,1}"), "exclude"),
        (LogFilter(include="x" * 600), "include"),
        (LogFilter(keywords=["k"] * 21), "keywords"),
        (LogFilter(pods=["p"] * 101), "pods"),
        (LogFilter(since=T0, until=T0 - timedelta(seconds=1)), "since"),
    ],
)
def test_bad_filters_name_their_field(f: LogFilter, field: str) -> None:
    with pytest.raises(FilterError, match=f"^{field}:"):
        compile_filter(f)


def test_query_values_tail_and_times() -> None:
    assert split_values(["ERROR,WARN", " INFO ", ""]) == ["ERROR", "WARN", "INFO"]
    assert split_values(None) == []
    assert check_tail(0) == 0 and check_tail(None) is None
    with pytest.raises(FilterError, match="tail"):
        check_tail(-1)
    assert parse_time("since", "2026-11-25T12:00:00Z") == T0
    assert parse_time("since", "2026-11-25T12:00:00") == T0  # no zone: UTC
    assert parse_time("since", "2026-11-25T13:00:00 01:00") == T0  # '+' decoded as a space
    with pytest.raises(FilterError, match="since"):
        parse_time("since", "yesterday")


def test_a_catastrophic_pattern_ends_the_stream_instead_of_the_event_loop() -> None:
    evil = captured(line("INFO", "a" * 40 + "b"))
    renderer = LogRenderer(compile_filter(LogFilter(include=r"(a|aa)+$")))
    out = renderer(recorded(evil))
    assert out is not None and out.event == "error" and out.terminal
    assert msgspec.json.decode(out.data)["errorCode"] == "INVALID_LOG_FILTER"
    assert renderer(recorded(EVENT, 42)) is None  # and stays silent afterwards


def test_fast_line_json_is_exactly_the_payload_struct() -> None:
    quirky = captured(line("ERROR", 'quote " back\\slash \u00e9 \n tab\t', "stderr", 3))
    fast = encode_lines(quirky, 41, [0])
    slow = [msgspec.json.encode(p) for p in line_payloads(quirky, 41, [0])]
    assert fast == slow
    decoded = msgspec.json.decode(fast[0], type=LinePayload)
    assert decoded.position == "41:0" and decoded.source_inferred is True


def test_one_sse_message_per_line_and_one_websocket_batch() -> None:
    out = LogRenderer(compile_filter(LogFilter(levels=["ERROR"])))(recorded(EVENT))
    assert isinstance(out, LogRendered)
    messages = out.sse.split(b"\n\n")[:-1]
    assert [m.split(b"\n")[0] for m in messages] == [b"id: 41:1", b"id: 41:3"]
    assert all(m.split(b"\n")[1] == b"event: log" for m in messages)
    batch = msgspec.json.decode(out.data)
    assert [ln["text"] for ln in batch["lines"]] == ["db Boom", "fine"]


def test_a_resume_cursor_skips_the_lines_seen_in_its_event_only() -> None:
    renderer = LogRenderer(LineFilter(), Cursor(41, 1))
    first = renderer(recorded(EVENT, 41))
    assert isinstance(first, LogRendered) and first.indices == [2, 3]
    later = renderer(recorded(EVENT, 42))
    assert isinstance(later, LogRendered) and later.indices == [0, 1, 2, 3]
    assert LogRenderer(LineFilter(), Cursor(41, 3))(recorded(EVENT, 41)) is None


def test_gaps_pass_origin_and_time_checks_but_not_line_checks() -> None:
    lost = LogFollowLost(
        namespace="default",
        pod="web-a",
        container="app",
        dropped_lines=4,
        reason="behind",
        since=T0,
        until=T0 + timedelta(seconds=2),
    )
    shown = LogRenderer(compile_filter(LogFilter(levels=["ERROR"])))(recorded(lost, 50))
    assert shown is not None and shown.event == "gap" and shown.sse.startswith(b"id: 50\n")
    assert msgspec.json.decode(shown.data)["droppedLines"] == 4
    elsewhere = compile_filter(LogFilter(pods=["web-b"]))
    assert LogRenderer(elsewhere)(recorded(lost)) is None
    later = compile_filter(LogFilter(since=T0 + timedelta(minutes=1)))
    assert LogRenderer(later)(recorded(lost)) is None
    assert ALL_LINES(recorded(lost)) is not None


def test_a_deployment_keeps_its_colours_error_lines_in_its_window() -> None:
    request = requested("d1", "web", tag="v2", registry=None)
    scope = deploylogs.scope_of([recorded(request, 1, T0)])
    assert scope is not None
    green = captured(line("ERROR", "crash", age=5), line("INFO", "ok", age=5), pod="web-green-1-a")
    blue = captured(line("ERROR", "old", age=5), pod="web-blue-1-a")
    early = captured(line("ERROR", "before", age=-5), pod="web-green-1-a")
    f = scope.line_filter()
    assert f.indices(green) == []  # no colour yet: nothing qualifies
    assert scope.observe(recorded(ColourAssigned(colour=Colour.GREEN, previous_colour=None)))
    f = scope.line_filter()
    assert (f.indices(green), f.indices(blue), f.indices(early)) == ([0], [], [])
    failed = DeploymentFailed(
        stage=Stage.ROLLOUT,
        error_code="X",
        message="x",
        rolled_back=True,
        serving_colour=None,
        total_duration_ms=1,
    )
    assert scope.observe(recorded(failed, 9, T0 + timedelta(seconds=10)))
    late = captured(line("ERROR", "much later", age=3600), pod="web-green-1-a")
    assert scope.line_filter().indices(late) == []
    assert deploylogs.scope_of([recorded(failed)]) is None
