"""The relay follows real pods of the sandbox: every container, in order, through
pod replacement and container restarts, without repeating a line."""

from __future__ import annotations

from collections import Counter

import pytest
from kubernetes_asyncio import client

from flightdeck.events.logs import LogLevel, LogLinesCaptured, LogSource
from flightdeck.eventstore import EventStore
from flightdeck.sandbox import Sandbox
from tests.integration.log_relay.cluster import (
    Relays,
    contiguous_in,
    direct_lines,
    log_events,
    losses,
    pods_of,
    relayed,
)
from tests.support.manifests import deployment
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_lines_of_two_pods_and_two_containers_arrive_in_order(
    relays: Relays, store: EventStore, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    ns = "lr-order"
    await relays.start("order-1", ns)
    await apps.create_namespaced_deployment(
        ns, deployment("shop", "shop/app:v1", replicas=2, containers=("app", "sidecar"))
    )

    async def four_containers_with_lines() -> dict[tuple[str, str], list] | None:
        found = await relayed(store, ns)
        return found if len(found) == 4 and all(len(v) >= 40 for v in found.values()) else None

    lines = await eventually(four_containers_with_lines, what="40 lines from each container")
    direct = {key: await direct_lines(core, ns, *key) for key in lines}
    events = [r.event for r in await log_events(store, ns)]

    assert {pod for pod, _ in lines} == {p.metadata.name for p in await pods_of(core, ns, "shop")}
    for key, got in lines.items():
        assert got[0] == direct[key][0], f"{key}: a pod seen live is relayed from its first line"
        assert got == direct[key][: len(got)], f"{key}: not the container's log, in order"
    captured = [e for e in events if isinstance(e, LogLinesCaptured)]
    assert all(e.app == "shop" and e.node and e.restart_count == 0 for e in captured)
    every = [line for e in captured for line in e.lines]
    levels = Counter(line.level for line in every)
    assert levels[LogLevel.ERROR] and levels[LogLevel.WARN] and levels[LogLevel.INFO]
    assert all(line.source_inferred for line in every)
    assert all(
        (line.source == LogSource.STDERR) == (line.level in (LogLevel.WARN, LogLevel.ERROR))
        for line in every
    )
    assert await losses(store, ns) == []


async def test_a_pod_replaced_mid_stream_is_followed(
    relays: Relays,
    store: EventStore,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    log_sandbox: Sandbox,
) -> None:
    ns = "lr-replace"
    await relays.start("replace-1", ns)
    await apps.create_namespaced_deployment(ns, deployment("cart", "shop/cart:v1"))

    async def first_pod_relayed() -> str | None:
        found = await relayed(store, ns)
        return next((pod for (pod, _), got in found.items() if len(got) >= 20), None)

    old = await eventually(first_pod_relayed, what="the first pod's lines")
    before = await direct_lines(core, ns, old, "app")
    await log_sandbox.faults.kill_pod(ns, old)

    async def replacement_relayed() -> str | None:
        found = await relayed(store, ns)
        return next((pod for (pod, _), got in found.items() if pod != old and len(got) >= 20), None)

    new = await eventually(replacement_relayed, what="the replacement pod's lines")
    lines = await relayed(store, ns)
    after = await direct_lines(core, ns, new, "app")

    assert lines[(old, "app")][: len(before)] == before, "lines up to the kill were all relayed"
    assert contiguous_in(lines[(old, "app")], before + lines[(old, "app")][len(before) :])
    assert lines[(new, "app")] == after[: len(lines[(new, "app")])]
    assert lines[(new, "app")][0] == after[0]


async def test_a_restarting_container_is_followed_without_repeating_a_line(
    relays: Relays, store: EventStore, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    ns = "lr-restart"
    await relays.start("restart-1", ns)
    await apps.create_namespaced_deployment(ns, deployment("crashy", "shop/crashy:v1-crash"))

    async def three_restarts() -> tuple[str, int] | None:
        pods = await pods_of(core, ns, "crashy")
        statuses = pods[0].status.container_statuses if pods else None
        count = statuses[0].restart_count if statuses else 0
        return (pods[0].metadata.name, count) if count >= 3 else None

    pod, _ = await eventually(three_restarts, what="three restarts")

    async def runs_relayed() -> list | None:
        got = (await relayed(store, ns)).get((pod, "app"), [])
        panics = sum(1 for _, text in got if text.startswith("panic:"))
        return got if panics >= 3 else None

    got = await eventually(runs_relayed, what="three crashed runs relayed")
    previous = await direct_lines(core, ns, pod, "app", previous=True)
    events = [r.event for r in await log_events(store, ns)]
    runs = [e.restart_count or 0 for e in events if isinstance(e, LogLinesCaptured)]

    assert len(got) == len(set(got)), "a line was relayed twice"
    assert [t for t, _ in got] == sorted(t for t, _ in got), "lines out of order"
    starts = [i for i, (_, text) in enumerate(got) if text.startswith("INFO starting")]
    panics = [i for i, (_, text) in enumerate(got) if text.startswith("panic:")]
    assert starts[0] == 0 and len(starts) >= len(panics) >= 3
    assert all(s < p for s, p in zip(starts, panics, strict=False)), "each run starts, then crashes"
    if previous and previous[-1][0] <= got[-1][0]:
        assert contiguous_in(previous, got), "the run before the current one, whole"
    assert runs == sorted(runs) and runs[-1] >= 2, "restart counts rise with the runs"
