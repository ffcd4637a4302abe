"""FollowLogs and UnfollowLogs narrow and extend what the relay follows."""

from __future__ import annotations

import nats.errors
import pytest
from kubernetes_asyncio import client
from nats.js.errors import KeyNotFoundError

from flightdeck.events import Cause, subjects
from flightdeck.events.commands import FollowLogs, UnfollowLogs
from flightdeck.eventstore import EventStore
from flightdeck.log_relay.adapters.kv import container_token
from flightdeck.log_relay.domain.selection import ContainerKey
from tests.integration.log_relay.cluster import (
    Relays,
    log_events,
    pods_of,
)
from tests.support.manifests import deployment
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_follow_and_unfollow_commands_choose_the_pods(
    relays: Relays, store: EventStore, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    ns = "lr-rules"
    relay = await relays.start("rules-1", ns, follow_all="false")
    await apps.create_namespaced_deployment(ns, deployment("api", "shop/api:v1", replicas=1))
    await apps.create_namespaced_deployment(ns, deployment("worker", "shop/worker:v1", replicas=1))
    cause = Cause.root("user:tests")
    await store.append(
        subjects.command("log-relay", "follow-logs"),
        [FollowLogs(namespace=ns, app="backend", selector={"app": "api"})],
        cause=cause,
    )

    async def backend_lines() -> list | None:
        events = await log_events(store, ns)
        return events if sum(len(r.event.lines) for r in events) >= 20 else None

    events = await eventually(backend_lines, what="lines of the pods FollowLogs selected")
    api_pod = (await pods_of(core, ns, "api"))[0].metadata.name
    lease = f"lease.{container_token(ContainerKey(ns, api_pod, 'app'))}"
    await store.append(
        subjects.command("log-relay", "unfollow-logs"),
        [UnfollowLogs(namespace=ns, app="backend")],
        cause=cause,
    )
    leases = await store.nc.jetstream().key_value("fd_log_leases")

    async def released() -> bool:
        try:
            await leases.get(lease)
        except KeyNotFoundError:
            return True
        except nats.errors.Error:
            return False
        return "why=unwanted" in relay.text()

    await eventually(released, what="the unfollowed container to be let go")

    assert {r.subject for r in events} == {subjects.pod_logs(ns, "backend", api_pod)}
    assert all(r.event.app == "backend" and r.event.pod == api_pod for r in events)
