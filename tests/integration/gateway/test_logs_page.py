"""Pages of an app's log history as JSON: backwards from the end, forwards from a cursor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flightdeck.events.logs import LogFollowLost
from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_logs_world import (
    CASES,
    T0,
    Case,
    dataset,
    make_app,
    publish,
    unique_app,
)

pytestmark = pytest.mark.integration


async def get_page(gateway: Gateway, app: str, **params: Any) -> dict[str, Any]:
    async with gateway.client("acme-read") as client:
        response = await client.get(f"/api/v1/logs/{app}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (200, "OK")
    return dict(body["data"])


@pytest.fixture(scope="module")
async def history(gateway: Gateway) -> tuple[str, list[Any]]:
    """An app with 64 lines in 8 batches and one gap in between."""
    app = unique_app("page")
    await make_app(gateway, app)
    first, sent_first = dataset(app, "a")
    second, sent_second = dataset(app, "b", start=T0 + timedelta(minutes=1))
    lost = LogFollowLost(
        namespace="default", pod="web-a", container="app", dropped_lines=3, reason="x", app=app
    )
    await publish(gateway, app, *first, lost, *second)
    return app, sent_first + sent_second


FILTERED = [*[c for c in CASES if c.tail is None and c.name != "no filter"][:4], CASES[0]]


@pytest.mark.parametrize("case", FILTERED, ids=[c.name for c in FILTERED])
async def test_paging_back_from_the_end_finds_every_kept_line(
    gateway: Gateway, history: tuple[str, list[Any]], case: Case
) -> None:
    app, sent = history
    expected = [s.text for s in sent if case.keeps(s)]
    pages: list[list[str]] = []
    data = await get_page(gateway, app, limit=3, **case.query)
    while data["items"]:
        pages.insert(0, [item["text"] for item in data["items"]])
        assert len(data["items"]) <= 3
        data = await get_page(gateway, app, limit=3, before=data["prev"], **case.query)
    assert [t for page in pages for t in page] == expected
    assert data["hasMore"] is False


async def test_paging_forward_splits_batches_exactly(
    gateway: Gateway, history: tuple[str, list[Any]]
) -> None:
    app, sent = history
    got: list[str] = []
    cursor = "0"
    while True:
        data = await get_page(gateway, app, limit=5, after=cursor)
        got += [item["text"] for item in data["items"]]
        cursor = data["next"]
        if not data["items"]:
            break
    assert got == [s.text for s in sent]
    assert ":" not in cursor or cursor.endswith(":7")  # the end of the last batch


async def test_a_page_carries_positions_gaps_and_cursors(
    gateway: Gateway, history: tuple[str, list[Any]]
) -> None:
    app, sent = history
    data = await get_page(gateway, app, limit=40)
    assert [item["text"] for item in data["items"]] == [s.text for s in sent][-40:]
    assert data["hasMore"] is True and data["limit"] == 40
    assert data["prev"] == data["items"][0]["position"]
    assert data["next"] == data["items"][-1]["position"]
    (gap,) = data["gaps"]
    assert gap["droppedLines"] == 3 and gap["pod"] == "web-a"
    # the gap lies between the two rounds, inside this page's range
    first, last = (int(data["items"][i]["position"].split(":")[0]) for i in (0, -1))
    assert first < int(gap["position"]) < last


async def test_since_until_and_both_cursors_bound_a_page(
    gateway: Gateway, history: tuple[str, list[Any]]
) -> None:
    app, sent = history
    since = (T0 + timedelta(minutes=1)).isoformat()
    data = await get_page(gateway, app, since=since, limit=1000)
    assert [i["text"] for i in data["items"]] == [
        s.text for s in sent if s.time >= T0 + timedelta(minutes=1)
    ]
    everything = (await get_page(gateway, app, limit=1000))["items"]
    lower, upper = everything[10]["position"], everything[20]["position"]
    between = await get_page(gateway, app, after=lower, before=upper, limit=1000)
    assert [i["text"] for i in between["items"]] == [i["text"] for i in everything[11:20]]
    until = (T0 + timedelta(seconds=3)).isoformat()
    early = await get_page(gateway, app, until=until, limit=1000)
    assert [i["text"] for i in early["items"]] == [s.text for s in sent[:4]]
