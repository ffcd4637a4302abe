"""The JetStream streams, declared once, with their retention.

Deployments and the audit trail are kept for good; cluster observations and
probe results are bounded by age; logs by bytes and age; commands are kept a
day (they are requests, not facts). Every stream allows atomic batches (a
multi-event append is all or nothing) and direct gets (fast reads of one
aggregate).
"""

from __future__ import annotations

from typing import Any

import msgspec

from flightdeck.events import subjects
from flightdeck.events.apps import AppEvent
from flightdeck.events.artifacts import ArtifactEvent
from flightdeck.events.audit import AuditEvent
from flightdeck.events.cluster import ClusterEvent
from flightdeck.events.commands import CommandMessage
from flightdeck.events.deadletters import DeadLetterEvent
from flightdeck.events.deployments import DeploymentEvent
from flightdeck.events.logs import LogEvent
from flightdeck.events.monitors import MonitorEvent
from flightdeck.events.notifications import ChannelEvent
from flightdeck.events.probes import ProbeEvent
from flightdeck.events.tenancy import TenancyEvent

DAY = 86_400.0

DEPLOYMENTS = "FD_DEPLOYMENTS"
ARTIFACTS = "FD_ARTIFACTS"
CLUSTER = "FD_CLUSTER"
LOGS = "FD_LOGS"
PROBES = "FD_PROBES"
MONITORS = "FD_MONITORS"
AUDIT = "FD_AUDIT"
COMMANDS = "FD_COMMANDS"
DEAD_LETTERS = "FD_DLQ"


class StreamSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator may tune per installation; the rest is fixed by design."""

    replicas: int = 1
    cluster_max_age_s: float = 7 * DAY
    probes_max_age_s: float = 30 * DAY
    logs_max_age_s: float = 3 * DAY
    logs_max_bytes: int = 1 << 30
    commands_max_age_s: float = 1 * DAY
    duplicate_window_s: float = 120.0
    dead_letters_max_age_s: float = 30 * DAY


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One stream: its subjects, storage and limits (0 / -1 mean unlimited)."""

    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_s: float = 0.0
    max_bytes: int = -1
    replicas: int = 1
    duplicate_window_s: float = 120.0


# The tagged union each stream holds: a message on a stream decodes as exactly this.
UNIONS: dict[str, Any] = {
    DEPLOYMENTS: DeploymentEvent | AppEvent,
    ARTIFACTS: ArtifactEvent,
    CLUSTER: ClusterEvent,
    LOGS: LogEvent,
    PROBES: ProbeEvent,
    MONITORS: MonitorEvent | ChannelEvent,
    AUDIT: AuditEvent | TenancyEvent,
    COMMANDS: CommandMessage,
    DEAD_LETTERS: DeadLetterEvent,
}

# Second subject token (after "fd.evt" / the "fd.cmd" prefix) -> stream.
_AREAS: dict[str, str] = {
    "deploy": DEPLOYMENTS,
    "app": DEPLOYMENTS,
    "ecr": ARTIFACTS,
    "k8s": CLUSTER,
    "log": LOGS,
    "probe": PROBES,
    "monitor": MONITORS,
    "channel": MONITORS,
    "ops": AUDIT,
    "access": AUDIT,
    "conn": AUDIT,
    "tenant": AUDIT,
    "namespace": AUDIT,
    "claim": AUDIT,
}


# Every subject each stream stores (what a whole-stream reader filters on).
SUBJECTS: dict[str, tuple[str, ...]] = {
    DEPLOYMENTS: (subjects.ALL_DEPLOYMENTS, subjects.ALL_APPS),
    ARTIFACTS: (subjects.ALL_IMAGES,),
    CLUSTER: (subjects.ALL_CLUSTER,),
    LOGS: (subjects.ALL_LOGS,),
    PROBES: (subjects.ALL_PROBES,),
    MONITORS: (subjects.ALL_MONITORS, subjects.ALL_CHANNELS),
    AUDIT: subjects.ALL_AUDIT,
    COMMANDS: (subjects.ALL_COMMANDS,),
    DEAD_LETTERS: (subjects.ALL_DEAD_LETTERS,),
}


def stream_for_subject(subject: str) -> str:
    """The stream that stores ``subject``; raises ``ValueError`` for a foreign subject."""
    parts = subject.split(".", 3)
    if len(parts) >= 3 and parts[0] == "fd":
        if parts[1] == "cmd":
            return COMMANDS
        if parts[1] == "dlq":
            return DEAD_LETTERS
        if parts[1] == "evt" and parts[2] in _AREAS:
            return _AREAS[parts[2]]
    raise ValueError(f"no Flightdeck stream stores subject {subject!r}")


def declare(settings: StreamSettings | None = None) -> list[StreamSpec]:
    """All streams with this installation's settings applied."""
    s = settings or StreamSettings()
    common: dict[str, Any] = {"replicas": s.replicas, "duplicate_window_s": s.duplicate_window_s}
    return [_within_age(spec) for spec in _specs(s, common)]


def _within_age(spec: StreamSpec) -> StreamSpec:
    """JetStream refuses a duplicate window longer than the stream's age bound (10052)."""
    if spec.max_age_s and spec.duplicate_window_s > spec.max_age_s:
        return msgspec.structs.replace(spec, duplicate_window_s=spec.max_age_s)
    return spec


def _specs(s: StreamSettings, common: dict[str, Any]) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=DEPLOYMENTS,
            subjects=SUBJECTS[DEPLOYMENTS],
            description="Deployment aggregates: every stage of every deployment, kept for good",
            **common,
        ),
        StreamSpec(
            name=AUDIT,
            subjects=SUBJECTS[AUDIT],
            description="Ops actions, connections and API tokens, kept for good",
            **common,
        ),
        StreamSpec(
            name=MONITORS,
            subjects=SUBJECTS[MONITORS],
            description="Uptime monitors, incidents and notification channels, kept for good",
            **common,
        ),
        StreamSpec(
            name=ARTIFACTS,
            subjects=SUBJECTS[ARTIFACTS],
            description="Images observed in (or missing from) the registry",
            max_age_s=s.cluster_max_age_s,
            **common,
        ),
        StreamSpec(
            name=CLUSTER,
            subjects=SUBJECTS[CLUSTER],
            description="Kubernetes observations and pod metrics, bounded by age",
            max_age_s=s.cluster_max_age_s,
            **common,
        ),
        StreamSpec(
            name=PROBES,
            subjects=SUBJECTS[PROBES],
            description="Health-check results and verdicts, bounded by age",
            max_age_s=s.probes_max_age_s,
            **common,
        ),
        StreamSpec(
            name=LOGS,
            subjects=SUBJECTS[LOGS],
            description="Pod log lines, bounded by bytes and age",
            max_age_s=s.logs_max_age_s,
            max_bytes=s.logs_max_bytes,
            **common,
        ),
        StreamSpec(
            name=COMMANDS,
            subjects=SUBJECTS[COMMANDS],
            description="Commands to services, kept a day",
            max_age_s=s.commands_max_age_s,
            **common,
        ),
        StreamSpec(
            name=DEAD_LETTERS,
            subjects=SUBJECTS[DEAD_LETTERS],
            description="Messages a consumer gave up on, with the error, for an operator",
            max_age_s=s.dead_letters_max_age_s,
            **common,
        ),
    ]
