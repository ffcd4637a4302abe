"""One container's follower against in-memory fakes of pods/log, JetStream and the cursor KV.

The fake log ends every stream at once, so the follower reconnects again and
again, each time re-reading history it already relayed: the published stream
must still hold every line exactly once, in order.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flightdeck.events.logs import LogLinesCaptured
from flightdeck.log_relay.domain.batching import BatchPolicy, event_id
from flightdeck.log_relay.domain.cursor import Cursor, advance, advance_all
from flightdeck.log_relay.domain.lines import LineParser
from flightdeck.log_relay.domain.logreads import LogRequest
from flightdeck.log_relay.domain.selection import ContainerKey, Target
from flightdeck.log_relay.service_layer.following import (
    ContainerFollower,
    FollowConfig,
    FollowStats,
)
from tests.support.waiting import eventually
from tests.unit.log_relay.fakes import FakeCursors, FakeLogs, FakePublisher

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
NOW = T0 + timedelta(seconds=30)
KEY = ContainerKey("shop", "web-1", "app")


def stamp(n: int) -> datetime:
    return T0 + timedelta(milliseconds=n // 3)  # three lines share each timestamp


def raw(n: int, run: int = 0) -> tuple[datetime, bytes]:
    time = stamp(n + 1000 * run)
    return time, f"{time.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z run {run} line {n}".encode()


def target(restarts: int = 0, tail: int | None = None) -> Target:
    return Target(
        key=KEY,
        app="web",
        node="node-1",
        pod_uid="uid-1",
        restart_count=restarts,
        running=True,
        has_log=True,
        tail_lines=tail,
    )


def texts(run: int, lines: range) -> list[str]:
    return [f"run {run} line {n}" for n in lines]


class Harness:
    def __init__(self, logs: FakeLogs, cursors: FakeCursors | None = None, **config: Any) -> None:
        self.logs, self.cursors, self.publisher = logs, cursors or FakeCursors(), FakePublisher()
        self.stats = FollowStats()
        settings = {"policy": BatchPolicy(max_lines=5, linger_s=0.0), "reconnect_s": 0.005}
        self.follower = ContainerFollower(
            target(logs.current),
            logs=self.logs,  # type: ignore[arg-type]
            cursors=self.cursors,  # type: ignore[arg-type]
            publisher=self.publisher,  # type: ignore[arg-type]
            window=asyncio.Semaphore(4),
            config=FollowConfig(**{**settings, **config}),
            stats=self.stats,
            clock=lambda: NOW,
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Harness:
        self.task = asyncio.create_task(self.follower.run())
        return self

    async def until_published(self, count: int) -> None:
        async def enough() -> bool:
            assert self.task is not None
            if self.task.done():
                self.task.result()  # a follower that failed says why
            return len(self.publisher.lines()) >= count

        await eventually(enough, within=10, what=f"{count} lines published")

    async def finish(self) -> None:
        self.follower.finish()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


async def test_reconnects_never_repeat_or_skip_a_line() -> None:
    logs = FakeLogs({0: [raw(n) for n in range(40)]})
    run = Harness(logs).start()
    await run.until_published(40)
    logs.runs[0] += [raw(n) for n in range(40, 100)]
    await run.until_published(100)
    await run.finish()

    assert run.publisher.lines() == texts(0, range(100))
    assert len(logs.requests) > 2 and logs.requests[0] == LogRequest(
        tail_lines=None, pod_uid="uid-1", run=0
    )
    assert all(r.since_seconds is not None for r in logs.requests[1:])
    assert run.cursors.saved[KEY] == advance_all(None, [stamp(n) for n in range(100)], 0, "uid-1")
    assert run.publisher.lost() == []


async def test_a_container_running_before_the_relay_starts_from_its_tail() -> None:
    logs = FakeLogs({0: [raw(n) for n in range(30)]})
    follower = ContainerFollower(
        target(tail=10),
        logs=logs,  # type: ignore[arg-type]
        cursors=FakeCursors(),  # type: ignore[arg-type]
        publisher=(publisher := FakePublisher()),  # type: ignore[arg-type]
        window=asyncio.Semaphore(1),
        config=FollowConfig(policy=BatchPolicy(linger_s=0.0), reconnect_s=0.005),
        stats=FollowStats(),
        clock=lambda: NOW,
    )
    task = asyncio.create_task(follower.run())
    await eventually(lambda: _has(publisher, 10), within=10, what="the tail")
    follower.finish()
    await asyncio.wait_for(task, 10)

    assert publisher.lines() == texts(0, range(20, 30))


async def _has(publisher: FakePublisher, count: int) -> bool:
    return len(publisher.lines()) >= count


@pytest.mark.parametrize("held", [3, 5, 12])
async def test_a_batch_published_before_a_crash_is_read_back_not_repeated(held: int) -> None:
    lines = [raw(n) for n in range(20)]
    logs = FakeLogs({0: lines})
    run = Harness(logs)
    # An earlier relay published the first `held` lines, then died before saving its cursor.
    first = advance(None, lines[0][0], 0, "uid-1")
    parser = LineParser()
    earlier = LogLinesCaptured(
        namespace=KEY.namespace,
        pod=KEY.pod,
        container=KEY.container,
        node="node-1",
        app="web",
        lines=[parser.parse(b, NOW) for _, b in lines[:held]],
    )
    run.publisher.events.append((event_id(KEY.namespace, KEY.pod, KEY.container, first), earlier))
    run.start()
    await run.until_published(20)
    await run.finish()

    assert run.publisher.lines() == texts(0, range(20))
    assert run.stats.duplicates == 1


async def test_after_a_restart_the_rest_of_the_run_before_comes_first() -> None:
    run0, run1 = [raw(n, 0) for n in range(30)], [raw(n, 1) for n in range(10)]
    logs = FakeLogs({0: run0, 1: run1})
    relayed_before = advance_all(None, [t for t, _ in run0[:12]], 0, "uid-1")
    assert relayed_before is not None
    run = Harness(logs, FakeCursors({KEY: relayed_before})).start()
    await run.until_published(28)
    await run.finish()

    captured = [e for _, e in run.publisher.events if isinstance(e, LogLinesCaptured)]
    assert run.publisher.lines() == texts(0, range(12, 30)) + texts(1, range(10))
    assert logs.requests[0].previous and not logs.requests[1].previous
    assert [e.restart_count for e in captured] == sorted(e.restart_count or 0 for e in captured)
    assert {e.restart_count for e in captured} == {0, 1}
    assert run.publisher.lost() == []


async def test_runs_that_could_not_be_read_are_reported_lost() -> None:
    logs = FakeLogs({2: [raw(n, 2) for n in range(5)], 3: [raw(n, 3) for n in range(5)]})
    cursor = Cursor(time=stamp(20), count=1, restarts=0, pod_uid="uid-1")
    run = Harness(logs, FakeCursors({KEY: cursor})).start()
    await run.until_published(10)
    await run.finish()

    lost = run.publisher.lost()
    assert len(lost) == 1 and lost[0].dropped_lines == 0 and "2 more time" in lost[0].reason
    assert lost[0].since == cursor.time and lost[0].app == "web"
    assert run.publisher.lines() == texts(2, range(5)) + texts(3, range(5))


async def test_a_log_trimmed_past_the_cursor_is_reported_lost() -> None:
    logs = FakeLogs({0: [raw(n) for n in range(30)]}, trimmed=20)
    cursor = advance_all(None, [stamp(n) for n in range(10)], 0, "uid-1")
    run = Harness(logs, FakeCursors({KEY: cursor})).start()  # type: ignore[dict-item]
    await run.until_published(10)
    await run.finish()

    assert run.publisher.lines() == texts(0, range(20, 30))
    (lost,) = run.publisher.lost()
    assert "no longer reaches back" in lost.reason and lost.until == stamp(20)


async def test_a_refused_batch_is_dropped_and_said_so() -> None:
    logs = FakeLogs({0: [raw(n) for n in range(12)]})
    run = Harness(logs)
    run.publisher.refuse = 1
    run.start()
    await run.until_published(7)
    await run.finish()

    (lost,) = run.publisher.lost()
    assert lost.dropped_lines == 5 and lost.since == stamp(0) and lost.until == stamp(4)
    assert run.publisher.lines() == texts(0, range(5, 12))
    assert run.stats.lines_dropped == 5
    kinds = [type(e).__name__ for _, e in run.publisher.events]
    assert kinds[0] == "LogFollowLost", "the loss is recorded where the lines would have been"


async def test_reading_pauses_while_the_backlog_is_full() -> None:
    logs = FakeLogs({0: [raw(n) for n in range(1000)]}, chunk=50)
    run = Harness(logs, max_backlog_lines=100)
    run.publisher.gate.clear()
    run.start()

    async def paused() -> bool:
        return run.stats.stalls >= 1

    await eventually(paused, within=10, what="the reader to pause")
    assert run.stats.lines_read <= 150 and run.follower.backlog < 160
    run.publisher.gate.set()
    await run.until_published(1000)
    await run.finish()

    assert run.publisher.lines() == texts(0, range(1000))


async def test_a_new_pod_that_restarted_before_it_was_followed_is_read_from_its_first_run() -> None:
    logs = FakeLogs({0: [raw(n, 0) for n in range(6)], 1: [raw(n, 1) for n in range(4)]})
    run = Harness(logs).start()
    await run.until_published(10)
    await run.finish()

    assert run.publisher.lines() == texts(0, range(6)) + texts(1, range(4))
    assert logs.requests[0] == LogRequest(follow=False, previous=True, pod_uid="uid-1", run=0)
    assert run.publisher.lost() == []


def cri(n: int, stream: str, tag: str, text: str) -> tuple[datetime, bytes]:
    time = stamp(n)
    return time, f"{time.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {stream} {tag} {text}".encode()


async def test_node_mode_joins_fragments_across_chunks_and_reconnects_with_true_streams() -> None:
    from flightdeck.events.logs import LogSource
    from flightdeck.log_relay.domain.cri import CriLineParser

    records = [cri(3 * n, "stdout", "F", f"INFO out {n}") for n in range(10)]
    records += [cri(30, "stderr", "P", "INFO a long "), cri(31, "stdout", "F", "INFO between")]
    records += [cri(32, "stderr", "P", "error that "), cri(33, "stderr", "F", "ends here")]
    records += [cri(36 + 3 * n, "stderr", "F", f"ERROR err {n}") for n in range(10)]
    logs = FakeLogs({0: records}, chunk=3)  # fragments and their ends in different chunks
    run = Harness(logs, make_parser=CriLineParser).start()  # every read ends: reconnects
    await run.until_published(22)
    await run.finish()

    published = [
        line for _, e in run.publisher.events if isinstance(e, LogLinesCaptured) for line in e.lines
    ]
    assert [ln.text for ln in published] == [
        *(f"INFO out {n}" for n in range(10)),
        "INFO between",
        "INFO a long error that ends here",
        *(f"ERROR err {n}" for n in range(10)),
    ]
    assert [ln.source for ln in published] == [LogSource.STDOUT] * 11 + [LogSource.STDERR] * 11
    assert not any(ln.source_inferred for ln in published)
    assert len(logs.requests) > 2  # it did reconnect, and repeated nothing
