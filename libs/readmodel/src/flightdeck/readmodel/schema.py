"""The read model's tables (SQLAlchemy Core), one per thing a reader asks about.

Every value comes from events (their fields, their times, their positions),
never from the clock or a sequence of the database, so a rebuild from the
streams reproduces every row exactly. Each table is written from exactly one
stream: streams are projected independently, so a row fed by two streams could
differ between a live run and a rebuild.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _time(name: str, **kw: object) -> Column[object]:
    return Column(name, DateTime(timezone=True), **kw)  # type: ignore[arg-type]


deployments = Table(
    "deployments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("app", String(128), nullable=False),
    Column("namespace", String(128), nullable=False),
    Column("repository", String(256), nullable=False),
    Column("tag", String(128), nullable=False),
    Column("image", String(512), nullable=False),
    Column("branch", String(256)),
    Column("commit_sha", String(64)),
    Column("replicas", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # DeploymentStatus
    Column("current_stage", String(16)),
    Column("colour", String(8)),  # the colour this deployment deploys to
    Column("previous_colour", String(8)),
    Column("serving_colour", String(8)),  # what takes traffic now, as far as this deployment knows
    Column("url", String(512)),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("error_stage", String(16)),
    Column("rolled_back", Boolean, nullable=False, default=False),
    Column("new_latency_p50_ms", Float),
    Column("new_latency_p99_ms", Float),
    Column("new_error_rate", Float),
    Column("old_latency_p50_ms", Float),
    Column("old_latency_p99_ms", Float),
    Column("old_error_rate", Float),
    Column("total_duration_ms", BigInteger),
    Column("event_count", Integer, nullable=False, default=0),
    Column("last_position", BigInteger, nullable=False),
    Column("correlation_id", String(64)),
    Column("requested_by", String(128)),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    _time("finished_at"),
    # Panda's result (ADR 0024): the GitHub repository, the timer that ran out, each colour's URL
    Column("github_owner", String(128)),
    Column("github_repo", String(128)),
    Column("error_reason", String(64)),
    Column("timeout_s", Float),
    Column("blue_url", String(512)),
    Column("green_url", String(512)),
    Index("ix_deployments_tenant_created", "tenant", "created_at"),
    Index("ix_deployments_tenant_app", "tenant", "app"),
    Index("ix_deployments_status", "status"),
)

apps = Table(
    "apps",
    metadata,
    Column("namespace", String(128), primary_key=True),
    Column("app", String(128), primary_key=True),
    Column("serving_colour", String(8)),  # what takes the app's traffic now
    Column("active_deployment_id", String(64)),  # the deployment holding the app, if any
    Column("active_colour", String(8)),
    Column("last_deployment_id", String(64)),
    Column("last_outcome", String(16)),
    _time("updated_at", nullable=False),
)

deployment_stages = Table(
    "deployment_stages",
    metadata,
    Column("deployment_id", String(64), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # RUNNING, SUCCEEDED, FAILED, CANCELLED
    _time("started_at"),
    _time("deadline"),
    _time("finished_at"),
    Column("duration_ms", BigInteger),
    Column("message", Text),
    Column("error_code", String(64)),
)

cluster_resources = Table(
    "cluster_resources",
    metadata,
    Column("kind", String(32), primary_key=True),  # Deployment, ReplicaSet, Service, Ingress
    Column("namespace", String(128), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("uid", String(64), nullable=False),
    Column("app", String(128)),
    Column("colour", String(8)),
    Column("labels", JSON, nullable=False),
    Column("status", JSON, nullable=False),  # kind-specific summary (replicas, address, selector…)
    Column("resource_version", String(32)),
    Column("deleted", Boolean, nullable=False, default=False),
    _time("last_seen", nullable=False),
    Index("ix_cluster_resources_app", "namespace", "app"),
)

pods = Table(
    "pods",
    metadata,
    Column("namespace", String(128), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("uid", String(64), nullable=False),
    Column("app", String(128)),
    Column("colour", String(8)),
    Column("owner", String(256)),
    Column("phase", String(32), nullable=False),
    Column("ready", Boolean, nullable=False),
    Column("node", String(256)),
    Column("pod_ip", String(64)),
    Column("host_ip", String(64)),
    Column("restarts", Integer, nullable=False),
    Column("containers", JSON, nullable=False),  # [ContainerState as dict]
    Column("cpu_millicores", Float),
    Column("memory_bytes", BigInteger),
    Column("deleted", Boolean, nullable=False, default=False),
    _time("last_seen", nullable=False),
    Index("ix_pods_app", "namespace", "app"),
)

monitors = Table(
    "monitors",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("url", String(2048)),  # or app_name (ADR 0027)
    Column("app_name", String(63)),
    Column("method", String(8), nullable=False, default="GET"),
    Column("headers", Text, nullable=False, default="{}"),  # JSON, credentials excluded
    Column("secret_header_names", Text, nullable=False, default="[]"),  # JSON, names only
    Column("body", Text),
    Column("interval_s", Float, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("conditions", Text, nullable=False, default="[]"),  # JSON list of expressions
    Column("failure_threshold", Integer, nullable=False),
    Column("success_threshold", Integer, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False),  # UNKNOWN, UP, DOWN (from incidents)
    Column("open_incident_id", String(64)),
    _time("created_at", nullable=False),
    _time("updated_at", nullable=False),
    Index("ix_monitors_tenant", "tenant"),
)

probe_results = Table(
    "probe_results",
    metadata,
    Column("position", BigInteger, primary_key=True),  # the event's stream position
    Column("target", String(256), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float),
    Column("error", Text),
    Column("deployment_id", String(64)),
    Column("colour", String(8)),
    Column("monitor_id", String(64)),
    _time("checked_at", nullable=False),
    Index("ix_probe_results_monitor", "monitor_id", "checked_at"),
    Index("ix_probe_results_deployment", "deployment_id"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("monitor_id", String(64), nullable=False),
    Column("tenant", String(64)),
    Column("cause", Text, nullable=False),
    Column("status", String(16), nullable=False),  # OPEN, RESOLVED
    _time("started_at", nullable=False),
    _time("resolved_at"),
    Column("duration_s", Float),
    Index("ix_incidents_monitor", "monitor_id", "started_at"),
)

connections = Table(
    "connections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # aws, github
    Column("details", JSON, nullable=False),  # account/arn/region or owner/repo/branch; no secrets
    Column("created_by", String(128)),
    _time("created_at", nullable=False),
    Index("ix_connections_tenant", "tenant"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    _time("created_at", nullable=False),
    _time("expires_at"),
    _time("revoked_at"),
)

ops_actions = Table(
    "ops_actions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64)),
    Column("app", String(128)),
    Column("action", String(32), nullable=False),
    Column("namespace", String(128), nullable=False),
    Column("target", String(256), nullable=False),
    Column("status", String(16), nullable=False),  # SUCCEEDED, FAILED
    Column("error_code", String(64)),
    Column("message", Text),
    Column("detail", JSON, nullable=False),
    Column("requested_by", String(128)),
    _time("at", nullable=False),
)

# Tenancy (ADR 0012), from FD_AUDIT: who owns what, and since when.
tenants = Table(
    "tenants",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("created_by", String(128)),
    _time("created_at", nullable=False),
    Column("plan", String(16)),  # monitoring plan (ADR 0027); NULL is free
    Column("max_monitors", Integer),
    Column("min_interval_s", Float),
    Column("history_days", Integer),
)

namespace_owners = Table(
    "namespace_owners",
    metadata,
    Column("namespace", String(128), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("assigned_by", String(128)),
    _time("assigned_at", nullable=False),
    Index("ix_namespace_owners_tenant", "tenant"),
)

app_owners = Table(
    "app_owners",
    metadata,
    Column("namespace", String(128), primary_key=True),
    Column("app", String(128), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("deployment_id", String(64), nullable=False),  # the first deployment, the claim's
    Column("claimed_by", String(128)),
    _time("claimed_at", nullable=False),
    Index("ix_app_owners_tenant", "tenant"),
)

checkpoints = Table(
    "projector_checkpoints",
    metadata,
    Column("projector", String(64), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("skipped", BigInteger, nullable=False, default=0),  # events it did not know
)

# Everything a rebuild drops and refills (the checkpoints go with them).
PROJECTED = (
    deployments,
    apps,
    deployment_stages,
    cluster_resources,
    pods,
    monitors,
    probe_results,
    incidents,
    connections,
    api_tokens,
    ops_actions,
    tenants,
    namespace_owners,
    app_owners,
)
