"""An app's logs over SSE: every filter, history then live, exact resume, gaps, slow clients, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flightdeck.events.logs import LogFollowLost
from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_logs_world import (
    CASES,
    Case,
    LogReader,
    Sent,
    batch,
    dataset,
    expected_history,
    expected_live,
    make_app,
    many,
    publish,
    unique_app,
)
from tests.support.slow_clients import read_to_close, silent_get, slow_consumer_cuts
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def marker_for(case: Case, sent: list[Sent], app: str) -> tuple[str, object]:
    """A line this case keeps, published last: once it arrives, everything before it has."""
    for s in sent:
        if case.keeps(s):
            text = f"{s.text} #end"
            return text, batch(app, s.pod, s.container, [(s.level, s.source, text, s.time)])
    raise AssertionError(f"no marker for {case.name}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_every_filter_history_then_live(gateway: Gateway, case: Case) -> None:
    # arrange: a history of four batches
    app = unique_app("sse")
    await make_app(gateway, app)
    old, old_sent = dataset(app, "h")
    await publish(gateway, app, *old)
    new, new_sent = dataset(app, "l")
    end_text, end = marker_for(case, new_sent, app)
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream", case.query) as reader:
        assert reader.status == 200
        # act: the same again, live, then a marker the filter keeps
        await publish(gateway, app, *new, end)  # type: ignore[arg-type]
        got = await reader.wait_for(end_text)
    # assert: exactly the kept lines, history first, in order
    assert got == expected_history(case, old_sent) + expected_live(case, new_sent) + [end_text]


async def test_each_line_is_a_message_with_its_cursor(gateway: Gateway) -> None:
    app = unique_app("ids")
    await make_app(gateway, app)
    now = datetime.now(UTC)
    one = batch(
        app,
        "web-a",
        "app",
        [("INFO", "stdout", "first", now), ("ERROR", "stderr", "second", now)],
    )
    (position,) = await publish(gateway, app, one)
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream") as reader:
        await reader.wait_lines(2)
    first, second = reader.lines()
    assert [first.id, second.id] == [f"{position}:0", f"{position}:1"]
    assert second.data == {
        "position": f"{position}:1",
        "time": now.isoformat().replace("+00:00", "Z"),
        "level": "ERROR",
        "source": "stderr",
        "sourceInferred": True,
        "namespace": "default",
        "app": app,
        "pod": "web-a",
        "container": "app",
        "node": "node-1",
        "text": "second",
    }


async def test_resume_in_the_middle_of_a_batch_gives_exactly_the_missing_lines(
    gateway: Gateway,
) -> None:
    # arrange: a client saw part of a 10-line batch
    app = unique_app("resume")
    await make_app(gateway, app)
    (position,) = await publish(gateway, app, many(app, "web-a", 10, "line"))
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream") as reader:
        await reader.wait_lines(10)
        seen = reader.lines()[3].id
    assert seen == f"{position}:3"
    later = await publish(gateway, app, many(app, "web-b", 2, "later"))
    # act: reconnect after line 3, by header and by query
    for how in ({"headers": {"Last-Event-ID": seen}}, {"params": {"lastEventId": seen}}):
        async with LogReader(gateway, f"/api/v1/logs/{app}/stream", **how) as again:  # type: ignore[arg-type]
            got = await again.wait_for("later 1")
        # assert: lines 4..9 of the batch, then the later batch; nothing twice
        assert got == [f"line {i}" for i in range(4, 10)] + ["later 0", "later 1"]
        assert again.lines()[0].id == f"{position}:4"
        assert again.lines()[-1].id == f"{later[0]}:1"


async def test_resume_with_a_filter_skips_what_was_seen_and_what_it_drops(gateway: Gateway) -> None:
    app = unique_app("resumef")
    await make_app(gateway, app)
    now = datetime.now(UTC)
    levels = ["ERROR", "INFO", "ERROR", "INFO", "ERROR", "ERROR"]
    lines = [(lv, "stdout", f"n{i}", now) for i, lv in enumerate(levels)]
    (position,) = await publish(gateway, app, batch(app, "web-a", "app", lines))
    params = {"levels": "ERROR", "lastEventId": f"{position}:2"}
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream", params) as reader:
        assert await reader.wait_for("n5") == ["n4", "n5"]


async def test_a_gap_is_an_event(gateway: Gateway) -> None:
    app = unique_app("gap")
    await make_app(gateway, app)
    lost = LogFollowLost(
        namespace="default",
        pod="web-a",
        container="app",
        dropped_lines=7,
        reason="the relay could not keep up",
        app=app,
    )
    (gap_at, _) = await publish(gateway, app, lost, many(app, "web-a", 1, "after"))
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream", {"levels": "ERROR"}) as reader:
        async with LogReader(gateway, f"/api/v1/logs/{app}/stream") as everything:
            await everything.wait_for("after 0")

        async def gap_seen() -> bool:
            return any(m.event == "gap" for m in reader.messages)

        await eventually(gap_seen)
    gap = next(m for m in reader.messages if m.event == "gap")
    assert gap.id == str(gap_at)
    assert gap.data["droppedLines"] == 7
    assert gap.data["reason"] == "the relay could not keep up"
    assert gap.data["pod"] == "web-a"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"include": "(unclosed"}, "INVALID_LOG_FILTER"),
        ({"exclude": "[z-a]"}, "INVALID_LOG_FILTER"),
        ({"levels": "ERROR,LOUD"}, "INVALID_LOG_FILTER"),
        ({"sources": "stdin"}, "INVALID_LOG_FILTER"),
        ({"since": "2026-11-25T12:00:00Z", "until": "2026-11-25T11:00:00Z"}, "INVALID_LOG_FILTER"),
        ({"since": "yesterday"}, "INVALID_LOG_FILTER"),
        ({"tail": "-1"}, "INVALID_LOG_FILTER"),
        ({"tail": "5", "since": "2026-11-25T12:00:00Z"}, "INVALID_LOG_FILTER"),
        ({"tail": "many"}, "VALIDATION_ERROR"),
        ({"lastEventId": "12:x"}, "VALIDATION_ERROR"),
    ],
)
async def test_a_bad_filter_is_a_400_with_a_code(
    gateway: Gateway, query: dict[str, str], code: str
) -> None:
    app = "no-such-app-needed"
    async with gateway.client("acme-read") as client:
        response = await client.get(f"/api/v1/logs/{app}/stream", params=query)
        page = await client.get(f"/api/v1/logs/{app}", params=query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errorCode"] == code
    assert body["status"] == 400 and body["path"] == f"/api/v1/logs/{app}/stream"
    if "lastEventId" not in query and "tail" not in query:
        assert page.status_code == 400 and page.json()["errorCode"] == code


async def test_another_tenants_app_answers_like_an_unknown_one(gateway: Gateway) -> None:
    # arrange: globex deployed the app in its namespace; acme asks for it there and in its own
    app = unique_app("theirs")
    await make_app(gateway, app, tenant="globex")
    await publish(gateway, app, many(app, "web-a", 1, "secret"), namespace="globex")
    async with gateway.client("acme-read") as client:
        theirs = await client.get(f"/api/v1/logs/{app}/stream", params={"namespace": "globex"})
        unknown = await client.get(f"/api/v1/logs/{unique_app('nobody')}/stream")
        page = await client.get(f"/api/v1/logs/{app}", params={"namespace": "globex"})
        same_name = await client.get(f"/api/v1/logs/{app}/stream")
    for response in (theirs, unknown, page, same_name):
        assert response.status_code == 404
        assert response.json()["errorCode"] == "APP_NOT_FOUND"
    assert theirs.json()["message"].replace(app, "X").replace("globex", "N") == unknown.json()[
        "message"
    ].replace(unknown.json()["message"].split()[2], "X").replace("default", "N")
    query = {"namespace": "globex"}
    async with LogReader(gateway, f"/api/v1/logs/{app}/stream", query, who="globex-admin") as owner:
        assert await owner.wait_lines(1) == ["secret 0"]


async def test_a_browser_uses_a_stream_ticket(gateway: Gateway) -> None:
    app = unique_app("ticket")
    await make_app(gateway, app)
    await publish(gateway, app, many(app, "web-a", 1, "hello"))
    async with gateway.client("acme-read") as client:
        ticket = (await client.post("/api/v1/stream-tickets")).json()["data"]["ticket"]
    reader = LogReader(gateway, f"/api/v1/logs/{app}/stream", {"ticket": ticket})
    reader.headers = {}
    async with reader:
        assert await reader.wait_lines(1) == ["hello 0"]


async def test_a_slow_client_is_dropped_with_a_reason_while_a_fast_one_keeps_up(
    gateway: Gateway,
) -> None:
    # arrange: one client that never reads (with a filter, so it takes the buffered path)
    app = unique_app("slow")
    await make_app(gateway, app)
    before = slow_consumer_cuts(gateway.built.dependencies.metrics)
    slow = silent_get(
        gateway.url, f"/api/v1/logs/{app}/stream?keywords=line&tail=0", gateway.tokens["acme-read"]
    )
    try:
        async with LogReader(gateway, f"/api/v1/logs/{app}/stream", {"tail": "0"}) as fast:
            # act: big batches until the slow one is cut off
            sent = 0
            for _ in range(400):
                await publish(gateway, app, many(app, "web-a", 50, f"line{'x' * 2000} {sent}"))
                sent += 1
                if slow_consumer_cuts(gateway.built.dependencies.metrics) > before:
                    break

            async def cut() -> bool:
                return slow_consumer_cuts(gateway.built.dependencies.metrics) > before

            await eventually(cut)
            await publish(gateway, app, many(app, "web-a", 1, "done"))
            got = await fast.wait_for("done 0")
        # assert: the fast client got every line; the slow one was told why, if it reads
        assert len(got) == sent * 50 + 1
        received = await read_to_close(slow)
        assert received.startswith(b"HTTP/1.1 200")
        if b"event: error" in received:
            assert b"SLOW_CONSUMER" in received and b"resumeFrom" in received
    finally:
        slow.close()
