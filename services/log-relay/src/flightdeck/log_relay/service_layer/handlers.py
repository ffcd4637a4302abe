"""One short function per message the relay reacts to, in two explicit maps.

Pod events come from the watcher's stream (every replica sees them all);
follow commands come from the shared durable consumer (one replica handles
each) and become rules in a KV bucket, which every replica watches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from flightdeck.events import Recorded
from flightdeck.events.cluster import PodObserved, ResourceDeleted
from flightdeck.events.commands import FollowLogs, UnfollowLogs
from flightdeck.log_relay.domain.selection import InvalidCommand, rule_for
from flightdeck.log_relay.service_layer.ports import RuleBook
from flightdeck.log_relay.service_layer.relay import Relay

log = structlog.get_logger(__name__)


def on_pod_observed(relay: Relay, r: Recorded[PodObserved], live: bool) -> None:
    relay.pod_observed(r.event, live)


def on_resource_deleted(relay: Relay, r: Recorded[ResourceDeleted], live: bool) -> None:
    if r.event.kind == "Pod":
        relay.pod_deleted(r.event.namespace, r.event.name)


EVENT_HANDLERS: dict[type, Callable[[Relay, Recorded[Any], bool], None]] = {
    PodObserved: on_pod_observed,
    ResourceDeleted: on_resource_deleted,
}


def dispatch_event(relay: Relay, r: Recorded[Any], live: bool) -> None:
    handler = EVENT_HANDLERS.get(type(r.event))
    if handler is not None:
        handler(relay, r, live)


async def on_follow_command(rules: RuleBook, r: Recorded[FollowLogs | UnfollowLogs]) -> None:
    """Validate, then store the standing order; a rejected command writes nothing."""
    try:
        rule = rule_for(r.event)
    except InvalidCommand as exc:
        log.warning("follow command rejected", command=r.type, id=r.id, error=str(exc))
        return
    await rules.put(rule)
    log.info("follow rule set", namespace=rule.namespace, app=rule.app, follow=rule.follow)


COMMAND_HANDLERS: dict[type, Callable[[RuleBook, Recorded[Any]], Awaitable[None]]] = {
    FollowLogs: on_follow_command,
    UnfollowLogs: on_follow_command,
}


async def dispatch_command(rules: RuleBook, r: Recorded[Any]) -> None:
    handler = COMMAND_HANDLERS.get(type(r.event))
    if handler is not None:
        await handler(rules, r)
