"""What the log-relay tests do with the sandbox, NATS and relay processes.

Lines are compared as ``(time, text)`` pairs: the sandbox's own pods/log output
(``timestamps=true``, fetched directly) against what the relay published. A
relay is right when, per container, its lines are exactly a contiguous run of
the direct output: nothing repeated, nothing skipped, nothing reordered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from flightdeck.events import Recorded, streams
from flightdeck.events.logs import LogFollowLost, LogLinesCaptured
from flightdeck.eventstore import EventStore
from flightdeck.log_relay.domain.lines import split_timestamp
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

Line = tuple[datetime, str]
Obj = dict[str, Any]


async def pods_of(core: client.CoreV1Api, namespace: str, app: str) -> list[Any]:
    found = await core.list_namespaced_pod(namespace, label_selector=f"app={app}")
    return sorted(found.items, key=lambda p: p.metadata.name)


async def direct_lines(
    core: client.CoreV1Api, namespace: str, pod: str, container: str, *, previous: bool = False
) -> list[Line]:
    """The container's log as the API serves it, or ``[]`` while it has none."""
    try:
        text = await core.read_namespaced_pod_log(
            pod, namespace, container=container, timestamps=True, previous=previous
        )
    except ApiException:
        return []
    out = []
    for raw in text.splitlines():
        stamp, body = split_timestamp(raw)
        assert stamp is not None, raw
        out.append((stamp, body))
    return out


async def log_events(store: EventStore, namespace: str) -> list[Recorded[Any]]:
    subject = f"fd.evt.log.{namespace}.>"
    return [r async for chunk in store.read_chunks(streams.LOGS, subject) for r in chunk.events]


async def relayed(store: EventStore, namespace: str) -> dict[tuple[str, str], list[Line]]:
    """Every relayed line of the namespace by (pod, container), in stream order."""
    out: dict[tuple[str, str], list[Line]] = {}
    for r in await log_events(store, namespace):
        if isinstance(r.event, LogLinesCaptured):
            out.setdefault((r.event.pod, r.event.container), []).extend(
                (line.time, line.text) for line in r.event.lines
            )
    return out


async def losses(store: EventStore, namespace: str) -> list[LogFollowLost]:
    return [
        r.event for r in await log_events(store, namespace) if isinstance(r.event, LogFollowLost)
    ]


def contiguous_in(lines: list[Line], direct: list[Line]) -> bool:
    """Whether ``lines`` is exactly a contiguous run of ``direct``."""
    if not lines:
        return True
    try:
        start = direct.index(lines[0])
    except ValueError:
        return False
    return direct[start : start + len(lines)] == lines


@dataclass
class RelayProcess(ServiceProcess):
    """One ``python -m flightdeck.log_relay``."""

    replica_id: str = field(default="", kw_only=True)

    async def started(self, within: float = 60.0) -> None:
        """Until the relay has read its snapshot of pods (its log says so)."""

        async def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.text()[-3000:]
            return "relay started" in self.text()

        await eventually(up, within=within, what=f"relay {self.replica_id} to start")


@dataclass
class Relays:
    """The relay processes of one test, all stopped at its end."""

    base_env: dict[str, str]
    logs: Path
    running: list[RelayProcess] = field(default_factory=list)

    async def start(self, replica_id: str, namespace: str, **settings: str) -> RelayProcess:
        env = {
            **self.base_env,
            "FLIGHTDECK_LOG_RELAY__NAMESPACES": namespace,
            "FLIGHTDECK_LOG_RELAY__REPLICA_ID": replica_id,
            **{f"FLIGHTDECK_LOG_RELAY__{k.upper()}": v for k, v in settings.items()},
        }
        relay = RelayProcess(
            "flightdeck.log_relay", env, self.logs / f"{replica_id}.log", replica_id=replica_id
        ).start()
        self.running.append(relay)
        await relay.started()
        return relay

    def stop_all(self) -> None:
        for relay in self.running:
            relay.stop()

    def report(self) -> str:
        return "\n".join(f"--- {r.log.name}\n{r.text()[-4000:]}" for r in self.running)


def base_env(nats_url: str, kubeconfig: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLIGHTDECK_NATS__URL": nats_url,
        "FLIGHTDECK_LOG_LEVEL": "info",
        "FLIGHTDECK_K8S__KUBECONFIG": str(kubeconfig),
        "FLIGHTDECK_LOG_RELAY__LEASE_TTL_S": "3",
        "FLIGHTDECK_LOG_RELAY__FLUSH_MS": "20",
        "FLIGHTDECK_LOG_RELAY__RECONNECT_S": "1",
        "FLIGHTDECK_LOG_RELAY__STATS_INTERVAL_S": "5",
    }
