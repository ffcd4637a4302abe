"""The retry policies: jittered, capped waits, each reported before it is slept."""

from __future__ import annotations

import asyncio
import sys

import pytest
import stamina

from flightdeck.runtime import retries
from flightdeck.runtime.retries import Policy

pytestmark = pytest.mark.unit

STEADY = Policy("test", wait_initial=1.0, wait_max=30.0, wait_jitter=0.0)


def _called_from_this_module() -> bool:
    """Whether this module's code awaits the sleep (its frames are below on the stack)."""
    frame = sys._getframe(1).f_back  # skip the fake sleep itself
    while frame is not None:
        if frame.f_code.co_filename == __file__:
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What stamina would have slept in this module's tests; nothing is (the loop only yields).

    The event loop is shared with the whole run, so other tasks (session servers'
    supervisors, reconnect loops) sleep through the same function: they keep their
    real delays and are not recorded.
    """
    waits: list[float] = []
    original = asyncio.sleep

    async def sleep(delay: float, result: object = None) -> object:
        if not _called_from_this_module():
            return await original(delay, result)
        waits.append(delay)
        return await original(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return waits


def test_waits_double_per_failure_up_to_the_cap() -> None:
    assert [STEADY.delay(n) for n in (1, 2, 3, 4, 5, 6, 40)] == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_adds_up_to_wait_jitter_and_never_passes_the_cap() -> None:
    firsts = [retries.RESTART.delay(1) for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in firsts)
    assert len(set(firsts)) > 100  # not one lockstep value
    assert all(4.0 <= retries.RESTART.delay(3) <= 5.0 for _ in range(50))
    assert all(retries.RESTART.delay(9) == 30.0 for _ in range(50))


def test_the_named_policies_keep_their_shape() -> None:
    bounds = [(0.3, 0.5), (0.9, 1.1), (2.7, 2.9), (8.1, 8.3), (10.0, 10.0)]
    for n, (low, high) in enumerate(bounds, start=1):
        assert low <= retries.REDELIVER.delay(n) <= high
    standby = retries.lease_standby(12.0)
    assert all(3.0 <= standby.delay(n) <= 4.0 for n in (1, 5, 50))
    poll = retries.poll(5.0, 60.0)
    assert 5.0 <= poll.delay(1) <= 5.5 and 10.0 <= poll.delay(2) <= 10.5
    assert poll.delay(10) == 60.0


def test_testing_mode_waits_nothing() -> None:
    with stamina.set_testing(True):
        assert retries.RESTART.delay(5) == 0.0


async def test_a_loop_retries_until_it_works_reporting_each_wait_before_sleeping_it(
    slept: list[float],
) -> None:
    reports: list[tuple[str, float]] = []
    failures = iter([OSError("one"), OSError("two")])
    retrying = retries.RESTART.retrying(OSError, lambda e, w: reports.append((str(e), w)))

    async for attempt in retrying:
        with attempt:
            failure = next(failures, None)
            if failure:
                raise failure

    assert [r[0] for r in reports] == ["one", "two"]
    assert [r[1] for r in reports] == slept
    assert 1.0 <= slept[0] <= 2.0 and 2.0 <= slept[1] <= 3.0
    assert retrying.failures == 2


async def test_after_a_reset_the_next_failure_waits_the_shortest_delay(slept: list[float]) -> None:
    retrying = STEADY.retrying(OSError)
    attempts = 0
    async for attempt in retrying:
        with attempt:
            attempts += 1
            if attempts == 3:
                retrying.reset()  # progress: it worked for a while
            if attempts < 4:
                raise OSError("again")
    assert slept == [1.0, 2.0, 1.0]


async def test_an_error_it_does_not_retry_ends_the_loop_unreported(slept: list[float]) -> None:
    reports: list[float] = []

    async def run() -> None:
        async for attempt in STEADY.retrying(OSError, lambda e, w: reports.append(w)):
            with attempt:
                raise KeyError("not transient")

    with pytest.raises(KeyError):
        await run()
    assert reports == [] and slept == []


async def test_call_runs_a_working_path_once_and_retries_a_failing_one(slept: list[float]) -> None:
    calls: list[int] = []

    async def flaky(n: int) -> int:
        calls.append(n)
        if len(calls) < 3:
            raise TimeoutError
        return n * 2

    retrying = STEADY.retrying((TimeoutError, OSError))
    assert await retrying.call(flaky, 21) == 42
    assert calls == [21, 21, 21] and slept == [1.0, 2.0]

    assert await STEADY.retrying(TimeoutError).call(flaky, 1) == 2  # works at once now
    assert calls == [21, 21, 21, 1] and slept == [1.0, 2.0]
    with pytest.raises(ValueError, match="no"):
        await STEADY.retrying(TimeoutError).call(_refuse)


async def _refuse() -> None:
    raise ValueError("no")


async def test_under_testing_a_forever_loop_gives_up_after_the_tests_attempts() -> None:
    tries = 0

    async def down_forever() -> None:
        nonlocal tries
        async for attempt in retries.RECONNECT.retrying(OSError):
            with attempt:
                tries += 1
                raise OSError("down")

    with stamina.set_testing(True, attempts=3), pytest.raises(OSError, match="down"):
        await down_forever()
    assert tries == 3


async def test_other_tasks_on_the_shared_loop_are_not_recorded(slept: list[float]) -> None:
    # stands in for a session server's supervisor: a task no code of this module drives
    await asyncio.create_task(asyncio.sleep(0))
    assert slept == []
    async for attempt in STEADY.retrying(OSError):
        with attempt:
            if not slept:
                raise OSError("once")
    assert slept == [1.0]
