"""Builds the relay from its settings: the one place adapters are constructed."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import structlog

from flightdeck.events import new_id, subjects
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.log_relay.adapters.files import NodeLogs
from flightdeck.log_relay.adapters.kube import PodLogs
from flightdeck.log_relay.adapters.kv import Cursors, Leases, Members, RulesStore
from flightdeck.log_relay.adapters.pods import PodFeed
from flightdeck.log_relay.adapters.publisher import LogPublisher
from flightdeck.log_relay.config import RelaySettings
from flightdeck.log_relay.domain.batching import BatchPolicy
from flightdeck.log_relay.domain.cri import CriLineParser
from flightdeck.log_relay.domain.lines import LineParser
from flightdeck.log_relay.domain.selection import FollowScope, Target
from flightdeck.log_relay.service_layer import handlers
from flightdeck.log_relay.service_layer.following import (
    ContainerFollower,
    FollowConfig,
    FollowStats,
)
from flightdeck.log_relay.service_layer.relay import Relay, RelayTiming
from flightdeck.runtime import contract
from flightdeck.runtime.consumers import ConsumerSpec
from flightdeck.runtime.kube import KubernetesSettings, api_client
from flightdeck.runtime.settings import load_section

SERVICE = "log-relay"
log = structlog.get_logger(__name__)
FOLLOW_LOGS = subjects.command(SERVICE, "follow-logs")
UNFOLLOW_LOGS = subjects.command(SERVICE, "unfollow-logs")


class ClosableLogs(Protocol):
    async def close(self) -> None: ...


@dataclass
class LogRelay:
    relay: Relay
    commands: ConsumerSpec
    logs: ClosableLogs

    async def close(self) -> None:
        await self.logs.close()


async def build(
    store: EventStore,
    buckets: Buckets,
    k8s: KubernetesSettings | None = None,
    settings: RelaySettings | None = None,
) -> LogRelay:
    k8s = k8s or load_section(KubernetesSettings)
    settings = settings or load_section(RelaySettings)
    holder = settings.replica_id or f"{socket.gethostname()}-{new_id()[:8]}"
    lease_kv = await buckets.open(settings.lease_bucket, ttl_s=settings.lease_ttl_s)
    cursors = Cursors(await buckets.open(settings.cursor_bucket))
    rules = RulesStore(await buckets.open(settings.rules_bucket))
    node_mode = settings.mode == "node"
    logs: NodeLogs | PodLogs
    if node_mode:
        logs = NodeLogs(Path(settings.node_log_dir), settings.poll_ms / 1000)
        if not logs.root_exists():
            log.warning(
                "node log directory missing: no container's log can be read until it exists",
                node_log_dir=settings.node_log_dir,
            )
    else:
        logs = PodLogs(
            await api_client(k8s, settings.max_follows + 16),
            k8s.request_timeout_s,
            settings.idle_timeout_s,
        )
    stats = FollowStats()
    follow = FollowConfig(
        policy=BatchPolicy(
            max_lines=settings.batch_lines,
            max_bytes=settings.batch_bytes,
            linger_s=settings.flush_ms / 1000,
        ),
        max_backlog_lines=settings.max_backlog_lines,
        reconnect_s=settings.reconnect_s,
        finish_timeout_s=settings.finish_timeout_s,
        max_line_bytes=settings.max_line_bytes,
        make_parser=CriLineParser if node_mode else LineParser,
    )
    publisher = LogPublisher(store)
    window = asyncio.Semaphore(settings.max_in_flight)

    def make_follower(target: Target) -> ContainerFollower:
        return ContainerFollower(
            target,
            logs=logs,
            cursors=cursors,
            publisher=publisher,
            window=window,
            config=follow,
            stats=stats,
        )

    scope = FollowScope(
        namespaces=settings.namespace_scope(k8s),
        follow_all=settings.follow_all,
        tail_lines=settings.tail_lines,
        node=(settings.node_name or None) if node_mode else None,
    )
    # Only relays that can read the same containers share them: a node's own relay
    # is its own group.
    group = f"{','.join(sorted(scope.namespaces or ['*']))}|{scope.follow_all}"
    if node_mode:
        group += f"|node:{settings.node_name or settings.node_log_dir}"
    relay = Relay(
        scope=scope,
        feed=PodFeed(store),
        leases=Leases(lease_kv, holder),
        members=Members(lease_kv, holder, settings.lease_ttl_s, group),
        cursors=cursors,
        rules=rules,
        make_follower=make_follower,
        dispatch=handlers.dispatch_event,
        timing=RelayTiming(
            lease_ttl_s=settings.lease_ttl_s,
            max_follows=settings.max_follows,
            stats_interval_s=settings.stats_interval_s,
        ),
        stats=stats,
    )
    commands = ConsumerSpec.of(
        contract.LOG_RELAY.durable("commands"),
        partial(handlers.dispatch_command, rules),
        concurrency=1,  # a follow and an unfollow of one app must not swap places
        start="all",
    )
    return LogRelay(relay, commands, logs)
