"""The node-mode file reader on real files: the kubelet's rotation in its awkward moments
(renamed but not reopened yet, rotated between listing and opening), the end of a run,
a tail that never starts mid-line, and what it refuses."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flightdeck.log_relay.adapters.files import NodeLogs
from flightdeck.log_relay.domain.logreads import LogRequest, LogUnavailable
from flightdeck.log_relay.domain.selection import ContainerKey

pytestmark = pytest.mark.integration

KEY = ContainerKey("ns", "web-1", "app")
UID = "uid-1"


def rec(n: int, stream: str = "stdout", tag: str = "F") -> bytes:
    return f"2026-12-07T08:00:00.{n:06d}000Z {stream} {tag} line {n}\n".encode()


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    directory = tmp_path / f"ns_web-1_{UID}" / "app"
    directory.mkdir(parents=True)
    return directory


def append(path: Path, *records: bytes) -> None:
    with path.open("ab") as f:
        f.write(b"".join(records))


def remove(pod_dir: Path) -> None:
    shutil.rmtree(pod_dir)


async def take(lines: AsyncIterator[list[bytes]], count: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < count:
        got += await asyncio.wait_for(anext(lines), 5)
    return got


async def test_a_rename_waits_for_the_new_file_then_reads_on_without_loss(app_dir: Path) -> None:
    logs = NodeLogs(app_dir.parent.parent, poll_s=0.01)
    live = app_dir / "0.log"
    append(live, rec(1), rec(2))
    async with logs.open(KEY, LogRequest(pod_uid=UID, run=0)) as lines:
        assert await take(lines, 2) == [rec(1)[:-1], rec(2)[:-1]]
        append(live, rec(3))
        os.rename(live, app_dir / "0.log.20261207-080000")  # renamed, not reopened yet
        await asyncio.sleep(0.05)
        append(app_dir / "0.log.20261207-080000", rec(4))  # the runtime still writes the old fd
        append(live, rec(5))  # reopened
        append(live, rec(6))

        assert await take(lines, 4) == [rec(n)[:-1] for n in (3, 4, 5, 6)]


async def test_a_read_covers_the_rotated_files_and_never_reads_one_twice(app_dir: Path) -> None:
    append(app_dir / "0.log.20261207-075900", rec(1))
    append(app_dir / "0.log.20261207-075959", rec(2))
    append(app_dir / "0.log.20261207-075800.gz", b"compressed: not read")
    append(app_dir / "0.log", rec(3))
    # a rotation between opening the live file and listing: the open file shows up as rotated
    os.link(app_dir / "0.log", app_dir / "0.log.20261207-080000")
    logs = NodeLogs(app_dir.parent.parent, poll_s=0.01)

    async with logs.open(KEY, LogRequest(pod_uid=UID, run=0, follow=False)) as lines:
        got = [line async for chunk in lines for line in chunk]

    assert got == [rec(n)[:-1] for n in (1, 2, 3)]


async def test_a_run_ends_when_the_next_one_starts_or_the_pod_is_removed(app_dir: Path) -> None:
    logs = NodeLogs(app_dir.parent.parent, poll_s=0.01)
    append(app_dir / "0.log", rec(1), rec(2, "stderr")[:-1])  # its last line cut short

    async with logs.open(KEY, LogRequest(pod_uid=UID, run=0)) as lines:
        first = await take(lines, 1)
        append(app_dir / "1.log", rec(3))  # the container restarted
        rest = [line async for chunk in lines for line in chunk]

    assert first + rest == [rec(1)[:-1], rec(2, "stderr")[:-1]]
    async with logs.open(KEY, LogRequest(pod_uid=UID)) as lines:  # no run: the latest
        assert await take(lines, 1) == [rec(3)[:-1]]
        remove(app_dir.parent)  # the kubelet removed the pod
        assert [line async for chunk in lines for line in chunk] == []


async def test_a_tail_counts_whole_lines_and_unknown_logs_are_unavailable(app_dir: Path) -> None:
    logs = NodeLogs(app_dir.parent.parent, poll_s=0.01)
    records = [rec(1), rec(2, tag="P"), rec(3, tag="P"), rec(4), rec(5)]
    append(app_dir / "0.log", *records)

    async with logs.open(KEY, LogRequest(pod_uid=UID, run=0, tail_lines=2)) as lines:
        assert await take(lines, 4) == [r[:-1] for r in records[1:]]  # P, P, F is one line
    with pytest.raises(LogUnavailable):
        async with logs.open(ContainerKey("ns", "other", "app"), LogRequest(pod_uid="x")):
            pass
    with pytest.raises(LogUnavailable):
        async with logs.open(KEY, LogRequest(pod_uid=UID, run=7)):
            pass
