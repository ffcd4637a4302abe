"""The relay's settings: the cluster (``FLIGHTDECK_K8S__*``, the same names the
k8s-watcher reads) and its own (``FLIGHTDECK_LOG_RELAY__*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.runtime.kube import KubernetesSettings


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_LOG_RELAY__", extra="ignore", use_attribute_docstrings=True
    )

    mode: Literal["api", "node"] = "api"
    """Where lines come from: ``api`` follows pods/log through the Kubernetes API (the
    stream, stdout or stderr, is inferred from the level); ``node`` tails the container
    runtime's log files under ``node_log_dir`` (the stream is a fact), one relay per node
    as Fluent Bit, Vector and Promtail run (ADR 0025)."""
    node_log_dir: str = "/var/log/pods"
    """Node mode: the kubelet's pod log directory (``<ns>_<pod>_<uid>/<container>/<n>.log``)."""
    node_name: str = ""
    """Node mode: follow only pods scheduled on this node (set it from the downward API,
    ``spec.nodeName``); empty follows every pod whose files are under ``node_log_dir``."""
    poll_ms: float = Field(100.0, gt=0)
    """Node mode: how often a log file at its end is looked at again."""
    namespaces: str = ""
    """Namespaces followed by default (comma-separated, ``*`` for every namespace the
    watcher reports); empty means the watcher's own, ``FLIGHTDECK_K8S__NAMESPACES``."""
    follow_all: bool = True
    """Follow every ``app``-labelled pod there unasked; else only what FollowLogs asks for."""
    tail_lines: int = Field(100, ge=0)
    """History taken on first attaching to a container that was already running."""
    batch_lines: int = Field(500, ge=1, le=10_000)
    """Most lines in one published batch."""
    batch_bytes: int = Field(256 * 1024, ge=4096, le=900 * 1024)
    """Most bytes in one published batch."""
    flush_ms: float = Field(25.0, ge=0)
    """How long the oldest pending line may wait for a fuller batch."""
    max_in_flight: int = Field(32, ge=1)
    """Appends awaiting JetStream's acknowledgement at once, across all containers."""
    max_backlog_lines: int = Field(20_000, ge=100)
    """Lines read but not yet published, per container, before reading pauses."""
    max_follows: int = Field(2000, ge=1)
    """Containers one replica follows at most; the rest are left to other replicas."""
    lease_ttl_s: float = Field(15.0, ge=1)
    """Lease lifetime of a followed container."""
    replica_id: str | None = None
    """This replica's lease holder name; a restarted replica with the same id takes its
    leases back at once. Unique per running process! Default: host name + random."""
    reconnect_s: float = Field(5.0, gt=0)
    """Wait before re-opening a stream that ended while its container still runs."""
    finish_timeout_s: float = Field(60.0, gt=0)
    """How long the stream of a deleted pod may still deliver before it is closed."""
    idle_timeout_s: float = Field(600.0, gt=0)
    """Re-open a log stream silent for this long."""
    max_line_bytes: int = Field(32 * 1024, ge=256)
    """Longer lines are truncated."""
    stats_interval_s: float = Field(30.0, gt=0)
    """How often follow statistics are logged."""
    lease_bucket: str = "fd_log_leases"
    """NATS KV bucket of container leases."""
    cursor_bucket: str = "fd_log_cursors"
    """NATS KV bucket of resume cursors."""
    rules_bucket: str = "fd_log_follows"
    """NATS KV bucket of FollowLogs rules."""

    def namespace_scope(self, kube: KubernetesSettings) -> frozenset[str] | None:
        """The namespaces followed by default; ``None`` means every one."""
        wanted = [n.strip() for n in self.namespaces.split(",") if n.strip()]
        names = wanted or kube.namespace_list()
        return None if "*" in names else frozenset(names)
