"""The event-store reads the pipeline relies on: one object's last event, every object's last."""

from __future__ import annotations

import asyncio

import pytest

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.cluster import ResourceDeleted
from flightdeck.eventstore import EventStore

pytestmark = pytest.mark.integration


def gone(name: str, uid: str = "") -> ResourceDeleted:
    return ResourceDeleted(kind="Pod", namespace="ns", name=name, uid=uid)


async def test_the_last_event_of_one_subject_and_of_every_subject(store: EventStore) -> None:
    ns = f"latest-{new_id()[:8]}"
    cause = Cause.root("user:ada")
    for version in ("1", "2"):
        for name in ("a", "b"):
            await store.append(
                subjects.cluster_object(ns, "Pod", name), [gone(name, version)], cause=cause
            )
    last = await store.read_last(subjects.cluster_object(ns, "Pod", "a"))
    assert last is not None and last.event.uid == "2"
    assert await store.read_last(subjects.cluster_object(ns, "Pod", "nobody")) is None
    latest = await store.read_latest(f"{subjects.EVENTS}.k8s.{ns}.pod.*")
    assert [(r.event.name, r.event.uid) for r in latest] == [("a", "2"), ("b", "2")]
    assert await store.read_latest(f"{subjects.EVENTS}.k8s.{ns}-none.pod.*") == []


async def test_more_subjects_than_one_multi_last_request_may_match(store: EventStore) -> None:
    ns = f"many-{new_id()[:8]}"
    cause = Cause.root("user:ada")
    await asyncio.gather(
        *(
            store.append(subjects.cluster_object(ns, "Pod", f"p{n}"), [gone(f"p{n}")], cause=cause)
            for n in range(1500)
        )
    )
    latest = await store.read_latest(f"{subjects.EVENTS}.k8s.{ns}.pod.*")
    assert len(latest) == 1500
    assert [r.position for r in latest] == sorted(r.position for r in latest)
