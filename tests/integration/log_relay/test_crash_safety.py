"""Relays die and come back, several share the work: still every line exactly once."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client

from flightdeck.eventstore import EventStore
from flightdeck.log_relay.adapters.kv import container_token
from flightdeck.log_relay.domain.selection import ContainerKey
from flightdeck.log_relay.domain.sharing import preferred_owner
from tests.integration.log_relay.cluster import (
    Relays,
    direct_lines,
    losses,
    relayed,
)
from tests.support.manifests import deployment
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_killed_relay_resumes_without_duplicate_or_missing_lines(
    relays: Relays, store: EventStore, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    ns = "lr-kill"
    first = await relays.start("kill-1", ns)
    await apps.create_namespaced_deployment(
        ns,
        deployment(
            "orders", "shop/orders:v1", replicas=1, containers=("app", "sidecar"), log_rate=50
        ),
    )

    async def both_containers_relayed() -> dict | None:
        found = await relayed(store, ns)
        return found if len(found) == 2 and all(len(v) >= 30 for v in found.values()) else None

    keys = sorted(await eventually(both_containers_relayed, what="lines from both containers"))
    first.kill()
    at_kill = {key: len(v) for key, v in (await relayed(store, ns)).items()}

    async def written_while_dead() -> bool:
        sizes = [len(await direct_lines(core, ns, *key)) for key in keys]
        return all(size >= at_kill[key] + 100 for size, key in zip(sizes, keys, strict=True))

    await eventually(written_while_dead, what="100 lines written while no relay ran")
    written = {key: await direct_lines(core, ns, *key) for key in keys}
    await relays.start("kill-2", ns)

    async def caught_up() -> dict | None:
        found = await relayed(store, ns)
        done = all(len(found.get(key, [])) >= len(written[key]) for key in keys)
        return found if done else None

    lines = await eventually(caught_up, what="the new relay to catch up")
    for key in keys:
        now = await direct_lines(core, ns, *key)
        got = lines[key]
        assert len(got) == len(set(got)), f"{key}: a line was relayed twice"
        assert got == now[: len(got)], f"{key}: a line is missing or out of order"
    assert await losses(store, ns) == []


async def test_two_replicas_follow_each_container_once(
    relays: Relays, store: EventStore, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    ns = "lr-replicas"
    await relays.start("rep-a", ns)
    await apps.create_namespaced_deployment(
        ns, deployment("search", "shop/search:v1", replicas=4, containers=("app", "sidecar"))
    )

    async def all_containers_relayed() -> dict | None:
        found = await relayed(store, ns)
        return found if len(found) == 8 and all(len(v) >= 10 for v in found.values()) else None

    keys = [ContainerKey(ns, *k) for k in await eventually(all_containers_relayed, what="8")]
    await relays.start("rep-b", ns)
    leases = await store.nc.jetstream().key_value("fd_log_leases")

    async def shared_as_hashing_says() -> dict | None:
        holders = {}
        for key in keys:
            try:
                holders[key] = (await leases.get(f"lease.{container_token(key)}")).value
            except Exception:
                return None
        wanted = {k: (preferred_owner(k, ["rep-a", "rep-b"]) or "").encode() for k in keys}
        return holders if holders == wanted else None

    holders = await eventually(shared_as_hashing_says, what="containers spread over both")
    counts = {key: len(v) for key, v in (await relayed(store, ns)).items()}

    async def more_lines_everywhere() -> dict | None:
        found = await relayed(store, ns)
        return found if all(len(found[k]) >= counts[k] + 20 for k in counts) else None

    lines = await eventually(more_lines_everywhere, what="lines after the hand-over")
    for key, got in lines.items():
        direct = await direct_lines(core, ns, *key)
        assert len(got) == len(set(got)), f"{key}: followed twice"
        assert got == direct[: len(got)], f"{key}: a line is missing or out of order"
    assert set(holders.values()) == {b"rep-a", b"rep-b"} or len(set(holders.values())) == 1
    assert await losses(store, ns) == []
