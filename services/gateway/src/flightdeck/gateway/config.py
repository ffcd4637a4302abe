"""The gateway's settings: ``FLIGHTDECK_GATEWAY__*`` environment variables.

Kept beside the gateway until the lead folds them into
``flightdeck.runtime.settings.Settings`` as a ``gateway`` section; the names
already follow that nesting, so nothing changes for an operator then.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewayConfig(BaseSettings):
    """Everything the gateway reads from its environment (documented in docs/api.md)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_GATEWAY__", extra="ignore", use_attribute_docstrings=True
    )

    host: str = "127.0.0.1"
    """Listen address."""
    port: int = Field(8080, ge=0, le=65535)
    """Listen port."""
    dev_mode: bool = False
    """Allow the built-in development secrets key (flightdeck up sets it, and registers an admin key for dev_tenant)."""
    dev_tenant: str = "dev"
    """The tenant of the dev key flightdeck up registers."""
    max_connections: int = Field(1000, ge=1)
    """SSE + WebSocket connections of all tenants together; beyond: 503 AT_CAPACITY."""
    max_connections_per_tenant: int = Field(250, ge=1)
    """SSE + WebSocket connections of one tenant; beyond: 429 TOO_MANY_CONNECTIONS."""
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """Largest request body (by Content-Length and as it streams in); beyond: 413 PAYLOAD_TOO_LARGE."""
    max_json_depth: int = Field(32, ge=2, le=64)
    """Deepest nesting of a JSON body or WebSocket message, checked before decoding; beyond: 400."""
    ws_max_message_bytes: int = Field(1024 * 1024, ge=1024)
    """Largest WebSocket message; a larger one closes the socket with code 1009 (never buffered)."""
    ws_max_subscriptions: int = Field(20, ge=1)
    """Subscriptions on one WebSocket; beyond: error TOO_MANY_SUBSCRIPTIONS."""
    max_history_lines: int = Field(10_000, ge=0, le=10_000)
    """Most log lines a stream or subscription replays (tail, or in since/until); beyond: 400 INVALID_LOG_FILTER."""
    client_buffer: int = Field(1024, ge=1)
    """Events a subscription may have pending before SLOW_CONSUMER."""
    heartbeat_s: float = Field(15.0, gt=0)
    """SSE comment after this much silence."""
    retry_ms: int = Field(3000, ge=0)
    """SSE retry: value."""
    close_after_done_s: float = Field(5.0, ge=0)
    """Close a deployment stream this long after done/error."""
    metrics_interval_s: float = Field(30.0, gt=0)
    """Pod CPU/memory samples that do not state the watcher's polling interval are coalesced to one per pod per this many seconds on the app stream (ADR 0023)."""
    idle_timeout_s: float = Field(1800.0, gt=0)
    """Close a stream with no delivery (WebSocket: no traffic) for this long."""
    slow_close_grace_s: float = Field(2.0, ge=0)
    """How long a cut-off client gets to read its final error."""
    ticket_ttl_s: float = Field(60.0, gt=0)
    """Stream ticket lifetime."""
    token_cache_s: float = Field(5.0, gt=0)
    """How long a key's lookup is cached; revocations apply at once regardless (they arrive as events)."""
    deploy_concurrency: int = Field(100, ge=1)
    """Pending + in-progress deployments of all tenants together; beyond: 503 AT_CAPACITY."""
    deploy_concurrency_per_tenant: int = Field(10, ge=1)
    """Pending + in-progress deployments of one tenant; beyond: 429 QUEUE_FULL."""
    deploy_wait_s: float = Field(10.0, ge=0)
    """How long POST /api/v1/deploy waits for the orchestrator to record the request, so its events and result can be read right after the 202 (ADR 0020)."""
    read_your_writes_s: float = Field(2.0, ge=0, le=30)
    """How long a result or list read waits for the read model to reach what the stream already holds (read your writes, ADR 0024); past it, a result is built from the deployment's events."""
    ops_rate_per_minute: float = Field(30.0, gt=0)
    """Ops actions (restart, scale, rollback, cancel) one tenant may run a minute, across this gateway; beyond: 429 RATE_LIMITED with Retry-After."""
    ops_burst: int = Field(10, ge=1)
    """Ops actions one tenant may run at once before the per-minute rate applies."""
    ops_wait_s: float = Field(10.0, ge=0)
    """How long an ops request waits for the action's outcome before answering 202 with status PENDING (ADR 0022)."""
    github_api_url: str = "https://api.github.com"
    """GitHub REST API base."""
    upstream_timeout_s: float = Field(10.0, gt=0)
    """GitHub and STS time-out."""
    run_projector: bool = True
    """Run the read-model projector inside the gateway."""
    gc_freeze: bool = True
    """gc.freeze() after start-up and as connections grow."""
    ws_compression: bool = False
    """permessage-deflate for WebSocket clients that offer it: ~25x less traffic for log lines, ~4 µs of CPU per line per client."""
