"""The runtime's CRI log files, read as a node agent: records, joined fragments, the true
stream, rotation and the end of a run decided without touching a file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.events.logs import LogLevel, LogSource
from flightdeck.log_relay.domain.cri import (
    CriLineParser,
    FileState,
    LineSplitter,
    Step,
    latest_run,
    next_step,
    parse_record,
    rotated_files,
    run_of,
    tail_start,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
FALLBACK = datetime(2000, 1, 1, tzinfo=UTC)


def stamp(n: int) -> str:
    return (T0 + timedelta(microseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def record(n: int, stream: str, tag: str, text: bytes) -> bytes:
    return f"{stamp(n)} {stream} {tag} ".encode() + text


def lines_of(raw: list[bytes], max_line_bytes: int = 32_768) -> list[tuple[str, str, bool]]:
    parser = CriLineParser(max_line_bytes)
    out = [parser.parse(r, FALLBACK) for r in raw]
    return [(ln.source.value, ln.text, ln.source_inferred) for ln in out if ln is not None]


def test_a_record_says_its_time_stream_and_whether_it_is_partial() -> None:
    got = parse_record(b"2026-12-07T08:00:00.123456789Z stderr F boom: it failed")

    assert got is not None
    assert (got.time, got.source, got.partial, got.text) == (
        datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=UTC),
        LogSource.STDERR,
        False,
        b"boom: it failed",
    )
    assert parse_record(b"2026-12-07T08:00:00Z stdout P ").text == b""  # type: ignore[union-attr]
    assert parse_record(b"2026-12-07T08:00:00Z stdout F").text == b""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"plain text from somewhere else",
        b"2026-12-07T08:00:00Z stdin F x",  # no such stream
        b"2026-12-07T08:00:00Z stdout X x",  # no such tag
        b"2026-12-07T08:00:00 stdout F x",  # no zone
        b"not-a-time-at-all-but-long stdout F x",
    ],
)
def test_what_is_not_a_record_is_said_so(raw: bytes) -> None:
    assert parse_record(raw) is None


def test_lines_carry_the_true_stream_not_one_inferred_from_the_level() -> None:
    raw = [
        record(1, "stderr", "F", b"INFO all good, said on stderr"),
        record(2, "stdout", "F", b'{"level":"error","msg":"an error, said on stdout"}'),
    ]

    parser = CriLineParser()
    first, second = (parser.parse(r, FALLBACK) for r in raw)

    assert first is not None and second is not None
    assert (first.source, first.source_inferred, first.level) == (
        LogSource.STDERR,
        False,
        LogLevel.INFO,
    )
    assert (second.source, second.source_inferred, second.level) == (
        LogSource.STDOUT,
        False,
        LogLevel.ERROR,
    )
    assert first.time == datetime(2026, 12, 7, 8, 0, 0, 1, tzinfo=UTC)


@given(
    text=st.binary(min_size=1, max_size=200).filter(lambda b: b"\n" not in b and b[-1:] != b"\r"),
    data=st.data(),
)
def test_a_line_split_into_fragments_at_any_bytes_joins_back_whole(
    text: bytes, data: st.DataObject
) -> None:
    cuts = sorted(
        data.draw(st.sets(st.integers(min_value=1, max_value=max(1, len(text) - 1)), max_size=6))
    )
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    pieces = [p for p in pieces if p] or [text]
    raw = [record(i, "stdout", "P", p) for i, p in enumerate(pieces[:-1])]
    raw.append(record(len(pieces), "stdout", "F", pieces[-1]))

    assert lines_of(raw) == [("stdout", text.decode("utf-8", "replace"), False)]


def test_fragments_of_one_stream_join_across_the_other_streams_lines() -> None:
    raw = [
        record(1, "stdout", "P", b"a long stdout li"),
        record(2, "stderr", "F", b"an error meanwhile"),
        record(3, "stderr", "P", b"half of "),
        record(4, "stdout", "F", b"ne, finished"),
        record(5, "stderr", "F", b"an error"),
    ]

    assert lines_of(raw) == [
        ("stderr", "an error meanwhile", False),
        ("stdout", "a long stdout line, finished", False),
        ("stderr", "half of an error", False),
    ]


def test_a_joined_line_takes_the_time_of_the_record_that_closes_it_so_times_stay_in_order() -> None:
    raw = [
        record(1, "stdout", "P", b"slow "),
        record(2, "stderr", "F", b"fast"),
        record(3, "stdout", "F", b"line"),
    ]
    parser = CriLineParser()
    times = [ln.time for r in raw if (ln := parser.parse(r, FALLBACK)) is not None]

    assert times == sorted(times) and times[-1] == T0 + timedelta(microseconds=3)


def test_an_overlong_joined_line_is_cut_and_marked_without_holding_it_all() -> None:
    raw = [record(i, "stdout", "P", b"x" * 100) for i in range(50)]
    raw.append(record(50, "stdout", "F", b"end"))

    ((_, text, _),) = lines_of(raw, max_line_bytes=256)

    assert text == "x" * 256 + " …[truncated]"


def test_a_foreign_line_is_kept_whole_with_its_stream_inferred() -> None:
    assert lines_of([b"ERROR written by something else"]) == [
        ("stderr", "ERROR written by something else", True)
    ]


@given(
    lines=st.lists(
        st.binary(min_size=0, max_size=30).filter(lambda b: b"\n" not in b), max_size=12
    ),
    data=st.data(),
)
def test_chunks_ending_anywhere_give_the_same_lines(
    lines: list[bytes], data: st.DataObject
) -> None:
    content = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(content)), max_size=8)))
    splitter = LineSplitter()
    got: list[bytes] = []
    for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True):
        got += splitter.feed(content[a:b])

    assert got == lines and splitter.holding == 0


def test_a_line_still_being_written_waits_and_a_truncated_last_line_is_still_a_line() -> None:
    splitter = LineSplitter()
    complete = record(1, "stdout", "F", b"whole")
    cut = record(2, "stderr", "F", b"cut sho")

    assert splitter.feed(complete + b"\n" + cut) == [complete]
    assert splitter.holding == len(cut)
    assert splitter.finish() == [cut]  # the rotated file ends here: nothing more comes
    assert lines_of([complete, cut]) == [("stdout", "whole", False), ("stderr", "cut sho", False)]


def test_rotation_mid_line_joins_the_fragment_from_the_old_file_with_the_new_files_end() -> None:
    old_file = record(1, "stdout", "F", b"before") + b"\n" + record(2, "stdout", "P", b"spans ")
    new_file = record(3, "stdout", "F", b"two files") + b"\n"
    old, new = LineSplitter(), LineSplitter()
    raw = old.feed(old_file) + old.finish() + new.feed(new_file)

    assert lines_of(raw) == [("stdout", "before", False), ("stdout", "spans two files", False)]


def state(**changes: object) -> FileState:
    base: dict[str, object] = {
        "open_id": (1, 10),
        "open_size": 100,
        "offset": 100,
        "path_id": (1, 10),
        "newer_run": False,
        "pod_gone": False,
    }
    return FileState(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "step"),
    [
        ({}, Step.WAIT),
        ({"path_id": None}, Step.WAIT),  # renamed, the runtime has not reopened yet
        ({"path_id": (1, 11)}, Step.SWITCH),  # renamed and a new file: the kubelet's rotation
        ({"path_id": (1, 11), "newer_run": True}, Step.SWITCH),  # drain the rotated run first
        ({"newer_run": True}, Step.END),  # the container restarted: this run is over
        ({"pod_gone": True}, Step.END),  # the kubelet removed the pod's logs
        ({"follow": False}, Step.END),
        ({"open_size": 40}, Step.REWIND),  # shorter than read: truncated in place
    ],
)
def test_what_to_do_at_the_end_of_a_file(changes: dict[str, object], step: Step) -> None:
    assert next_step(state(**changes)) is step


def test_kubelets_file_names_give_runs_and_rotated_files_oldest_first() -> None:
    names = [
        "0.log",
        "1.log",
        "1.log.20261207-080102",
        "1.log.20261207-075959",
        "1.log.20261207-070000.gz",  # compressed: not read
        "1.log.tmp",
        "x.log",
        "10.log.20261207-080000",
    ]

    assert rotated_files(names, 1) == ["1.log.20261207-075959", "1.log.20261207-080102"]
    assert (run_of("12.log"), run_of("1.log.20261207-080102"), run_of("a.log")) == (12, None, None)
    assert latest_run(names) == 1 and latest_run(["x"]) is None


def test_a_tail_counts_lines_not_fragments() -> None:
    raw = [
        record(1, "stdout", "F", b"one"),
        record(2, "stdout", "P", b"t"),
        record(3, "stdout", "P", b"w"),
        record(4, "stdout", "F", b"o"),
        record(5, "stderr", "F", b"three"),
    ]

    assert tail_start(raw, 2) == 1
    assert tail_start(raw, 1) == 4
    assert tail_start(raw, 0) == 5
    assert tail_start(raw, 10) == 0


@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["stdout", "stderr"]),
            st.text(alphabet="abc xyz→", min_size=1, max_size=40),
        ),
        min_size=1,
        max_size=15,
    ),
    data=st.data(),
)
def test_any_fragments_any_rotations_any_reads_give_back_every_line_once(
    lines: list[tuple[str, str]], data: st.DataObject
) -> None:
    # the runtime: each line in 1-3 fragments; stdout and stderr are separate pipes, so
    # one stream's fragments may straddle the other's records (any interleaving)
    queues: dict[str, list[tuple[str, bytes]]] = {"stdout": [], "stderr": []}
    for stream, text in lines:
        raw = text.encode()
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=2)))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True) if raw[a:b]]
        queues[stream] += [("P", piece) for piece in pieces[:-1]] + [("F", pieces[-1])]
    records: list[bytes] = []
    while queues["stdout"] or queues["stderr"]:
        ready = [s for s in ("stdout", "stderr") if queues[s]]
        stream = ready[data.draw(st.integers(0, len(ready) - 1))]
        tag, piece = queues[stream].pop(0)
        records.append(record(len(records), stream, tag, piece))
    # the kubelet: rotations between any two records (mid-line too); the reader: any chunks
    rotations = sorted(data.draw(st.sets(st.integers(1, len(records)), max_size=3)))
    files = [records[a:b] for a, b in zip([0, *rotations], [*rotations, len(records)], strict=True)]
    raw_lines: list[bytes] = []
    for index, file in enumerate(files):
        content = b"".join(r + b"\n" for r in file)
        splitter = LineSplitter()
        cuts = sorted(data.draw(st.sets(st.integers(0, len(content)), max_size=4)))
        for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True):
            raw_lines += splitter.feed(content[a:b])
        if index < len(files) - 1:
            raw_lines += splitter.finish()  # rotated: read to its end

    got = lines_of([r for r in raw_lines if r])

    assert sorted(got) == sorted((s, t, False) for s, t in lines)
    for stream in ("stdout", "stderr"):  # each stream in its own order
        assert [t for s, t, _ in got if s == stream] == [t for s, t in lines if s == stream]
