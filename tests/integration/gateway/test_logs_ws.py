"""An app's logs over the WebSocket: every filter, filter changes in place, resume, slow sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
import websockets

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_logs_sse import marker_for
from tests.integration.gateway.test_logs_world import (
    CASES,
    Case,
    batch,
    dataset,
    expected_history,
    expected_live,
    make_app,
    many,
    publish,
    unique_app,
)
from tests.support.slow_clients import slow_consumer_cuts
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def connect(gateway: Gateway, who: str = "acme-read", **kw: Any) -> Any:
    return gateway.websocket(who, **kw)


async def send(ws: Any, **message: Any) -> None:
    await ws.send(msgspec.json.encode(message).decode())


async def receive(ws: Any) -> dict[str, Any]:
    return dict(msgspec.json.decode(await asyncio.wait_for(ws.recv(), 20)))


async def until(ws: Any, **match: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Messages in arrival order up to the first that includes ``match`` (returned apart)."""
    before = []
    while True:
        message = await receive(ws)
        if all(message.get(k) == v for k, v in match.items()):
            return before, message
        before.append(message)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [
        line["text"]
        for m in messages
        if m.get("type") == "event" and m["event"] == "log"
        for line in m["data"]["lines"]
    ]


async def read_until_text(ws: Any, text: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while text not in texts(seen):
        seen.append(await receive(ws))
    return seen


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_every_filter_history_then_live(gateway: Gateway, case: Case) -> None:
    # arrange
    app = unique_app("ws")
    await make_app(gateway, app)
    old, old_sent = dataset(app, "h")
    await publish(gateway, app, *old)
    new, new_sent = dataset(app, "l")
    end_text, end = marker_for(case, new_sent, app)
    async with connect(gateway) as ws:
        subscribe: dict[str, Any] = {"app": app, "filter": case.ws, "subscriptionId": "logs"}
        if case.tail is not None:
            subscribe["tail"] = case.tail
        await send(ws, type="subscribe-to-logs", **subscribe)
        await until(ws, type="subscribed", subscriptionId="logs")
        # act
        await publish(gateway, app, *new, end)  # type: ignore[arg-type]
        got = texts(await read_until_text(ws, end_text))
    # assert
    assert got == expected_history(case, old_sent) + expected_live(case, new_sent) + [end_text]


async def test_a_filter_change_applies_from_the_next_line(gateway: Gateway) -> None:
    # arrange: batches keep coming while the filter changes
    app = unique_app("swap")
    await make_app(gateway, app)
    now = datetime.now(UTC)
    levels = ("INFO", "ERROR", "DEBUG", "ERROR")

    def mixed(n: int) -> Any:
        lines = [(lv, "stdout", f"b{n} l{i}", now) for i, lv in enumerate(levels)]
        return batch(app, "web-a", "app", lines)

    async with connect(gateway) as ws:
        await send(ws, type="subscribe-to-logs", app=app, tail=0, subscriptionId="s")
        await until(ws, type="subscribed")

        async def publisher() -> list[int]:
            out = []
            for n in range(60):
                out += await publish(gateway, app, mixed(n))
                await asyncio.sleep(0)
            return out

        publishing = asyncio.create_task(publisher())
        _, first = await until(ws, type="event")
        # act
        await send(ws, type="update-log-filter", subscriptionId="s", filter={"levels": ["ERROR"]})
        before, ack = await until(ws, type="filter-updated")
        positions = await publishing
        after = await read_until_text(ws, "b59 l3")
    # assert: whole events under the old filter, then whole events under the new one, no gap
    assert ack == {"type": "filter-updated", "subscriptionId": "s"}
    old = [first, *before]
    old_positions = [m["position"] for m in old]
    new_positions = [m["position"] for m in after]
    assert old_positions + new_positions == positions
    assert all(len(m["data"]["lines"]) == 4 for m in old)
    assert all([ln["level"] for ln in m["data"]["lines"]] == ["ERROR"] * 2 for m in after)


async def test_resume_from_a_line_position(gateway: Gateway) -> None:
    app = unique_app("wsresume")
    await make_app(gateway, app)
    (position,) = await publish(gateway, app, many(app, "web-a", 6, "line"))
    async with connect(gateway) as ws:
        await send(ws, type="subscribe-to-logs", app=app, fromPosition=f"{position}:3")
        message = (await until(ws, type="event"))[1]
        assert message["position"] == position
        assert [ln["text"] for ln in message["data"]["lines"]] == ["line 4", "line 5"]
        assert [ln["position"] for ln in message["data"]["lines"]] == [
            f"{position}:4",
            f"{position}:5",
        ]
        await send(ws, type="subscribe-to-logs", app=app, fromPosition=position - 1)
        again = (await until(ws, type="event", subscriptionId="s2"))[1]
        assert len(again["data"]["lines"]) == 6


async def test_refusals_are_messages_and_the_socket_stays_open(gateway: Gateway) -> None:
    theirs = unique_app("wstheirs")
    await make_app(gateway, theirs, tenant="globex")
    mine = unique_app("wsmine")
    await make_app(gateway, mine)
    await publish(gateway, mine, many(mine, "web-a", 1, "ok"))
    async with connect(gateway) as ws:
        await send(ws, type="subscribe-to-logs", app=theirs)
        assert (await until(ws, type="error"))[1]["code"] == "APP_NOT_FOUND"
        await send(
            ws, type="subscribe-to-logs", app=mine, filter={"include": "(("}, subscriptionId="re"
        )
        refused = (await until(ws, type="error"))[1]
        assert (refused["code"], refused["subscriptionId"]) == ("INVALID_LOG_FILTER", "re")
        await send(ws, type="subscribe-to-logs", app=mine, tail=-3)
        assert (await until(ws, type="error"))[1]["code"] == "INVALID_LOG_FILTER"
        await send(ws, type="subscribe-to-logs", app=mine, filter={"levels": ["LOUD"]})
        assert (await until(ws, type="error"))[1]["code"] == "INVALID_LOG_FILTER"
        await send(ws, type="subscribe-to-logs", app=mine, subscriptionId="ok")
        await until(ws, type="subscribed", subscriptionId="ok")
        await send(ws, type="update-log-filter", subscriptionId="ok", filter={"sources": ["x"]})
        refused = (await until(ws, type="error"))[1]
        assert (refused["code"], refused["subscriptionId"]) == ("INVALID_LOG_FILTER", "ok")
        assert texts([(await until(ws, type="event"))[1]]) == ["ok 0"]


async def test_a_slow_socket_is_dropped_with_a_reason(gateway: Gateway) -> None:
    # arrange: a socket that stops reading after it subscribed (uncompressed: the
    # repetitive lines would otherwise shrink a thousand-fold on the wire)
    app = unique_app("wsslow")
    await make_app(gateway, app)
    cuts = slow_consumer_cuts(gateway.built.dependencies.metrics)
    async with connect(gateway, max_queue=1, compression=None) as ws:
        await send(ws, type="subscribe-to-logs", app=app, tail=0)
        await until(ws, type="subscribed")
        # act: big batches until the gateway gives up on it
        for n in range(400):
            await publish(gateway, app, many(app, "web-a", 50, f"{'y' * 2000} {n}"))
            if slow_consumer_cuts(gateway.built.dependencies.metrics) > cuts:
                break

        async def cut() -> bool:
            return slow_consumer_cuts(gateway.built.dependencies.metrics) > cuts

        await eventually(cut)
        # assert: it then reads what was sent; the last word is SLOW_CONSUMER, then 4008
        last: dict[str, Any] = {}
        closed = await _read_to_the_end(ws, last)
    if last.get("type") == "error":
        assert last["code"] == "SLOW_CONSUMER"
        assert "resume after position" in last["message"]
    # (a socket that reads nothing within slow_close_grace_s is just dropped, as documented)
    rcvd = closed.rcvd
    assert rcvd is None or (rcvd.code, rcvd.reason) == (4008, "SLOW_CONSUMER")


async def _read_to_the_end(ws: Any, last: dict[str, Any]) -> websockets.ConnectionClosed:
    """Read until the server closes; ``last`` ends up holding the last message."""
    while True:
        try:
            message = await receive(ws)
        except websockets.ConnectionClosed as closed:
            return closed
        last.clear()
        last.update(message)
