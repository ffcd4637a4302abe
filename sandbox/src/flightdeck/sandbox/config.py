"""Settings of one sandbox: timing, failure markers, ports, buffer sizes.

The sandbox runs on simulated seconds: every duration below is in simulated
seconds and is divided by ``speed`` to get wall-clock seconds, so tests run the
same story as the demo, only faster. Timestamps on objects stay wall-clock
(kubectl's AGE column must be true).
"""

from __future__ import annotations

import msgspec


class Timings(msgspec.Struct, frozen=True, kw_only=True):
    """How long the simulated cluster takes for each step, in simulated seconds."""

    schedule: float = 0.5
    """Pod created → bound to a node."""
    sandbox_setup: float = 0.5
    """Bound → containers waiting in ContainerCreating, image pull started."""
    image_pull: float = 2.0
    """Pulling an image (and failing to, for the pull-failure marker)."""
    container_start: float = 0.5
    """Pulled → container Running."""
    readiness: float = 1.0
    """Running → Ready when the container has no readinessProbe of its own."""
    crash_after: float = 3.0
    """Running → Terminated(Error) for the crash marker."""
    backoff_initial: float = 10.0
    """First CrashLoopBackOff / ImagePullBackOff delay; doubles up to ``backoff_max``."""
    backoff_max: float = 300.0
    termination: float = 1.0
    """Pod deletion → containers stopped and the pod gone (capped by its grace period)."""
    ingress_address: float = 3.0
    """Ingress created → load-balancer address in its status."""
    bookmark_interval: float = 60.0
    """How often watches that asked for bookmarks get one."""


class Markers(msgspec.Struct, frozen=True, kw_only=True):
    """Image tag suffixes that make a workload misbehave on purpose."""

    pull_failure: str = "-pullfail"
    crash: str = "-crash"
    unhealthy: str = "-unhealthy"


class Ports(msgspec.Struct, frozen=True, kw_only=True):
    """Listening ports; 0 picks a free one."""

    k8s: int = 0
    ingress: int = 0
    aws: int = 0


class SandboxConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a sandbox process needs to know, passed to it as JSON.

    Args:
        speed: simulated seconds per wall-clock second (20 in tests, 1 in the demo).
        timings: step durations in simulated seconds.
        markers: image tag suffixes for pull failure, crash loop and failing health checks.
        ports: fixed ports, or 0 for free ones.
        host: the address every server binds to.
        nodes: names of the fake nodes pods are scheduled on.
        log_lines_per_second: wall-clock rate at which each running container logs.
        log_buffer_lines: lines kept per container (current and previous run each).
        watch_history: change events kept for watches that resume from a resourceVersion.
        max_events: core/v1 Events kept per namespace before the oldest are dropped.
        aws_region: the region the ECR helper and moto use.
        seed: makes pod names, IPs and log contents repeatable across runs.
        node_logs: write containers' output as CRI log files, as a node does.
        node_log_dir: where (the node's ``/var/log/pods``); empty: ``<state dir>/node/pods``.
        container_log_max_bytes: a log file is rotated past this size (kubelet's
            ``containerLogMaxSize``).
        container_log_max_files: files kept per container run, the live one included.
        pod_log_removal_delay: simulated seconds a deleted pod's log directory stays.
    """

    speed: float = 1.0
    timings: Timings = msgspec.field(default_factory=Timings)
    markers: Markers = msgspec.field(default_factory=Markers)
    ports: Ports = msgspec.field(default_factory=Ports)
    host: str = "127.0.0.1"
    nodes: tuple[str, ...] = ("sandbox-node-1", "sandbox-node-2", "sandbox-node-3")
    log_lines_per_second: float = 2.0
    log_buffer_lines: int = 5000
    watch_history: int = 10000
    max_events: int = 1000
    aws_region: str = "us-east-1"
    seed: int = 0
    node_logs: bool = True
    node_log_dir: str = ""
    container_log_max_bytes: int = 10 * 1024 * 1024
    container_log_max_files: int = 5
    pod_log_removal_delay: float = 10.0

    def wall(self, simulated_seconds: float) -> float:
        """Wall-clock seconds for a simulated duration."""
        return simulated_seconds / self.speed if self.speed > 0 else simulated_seconds

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> SandboxConfig:
        return msgspec.json.decode(text, type=cls)
