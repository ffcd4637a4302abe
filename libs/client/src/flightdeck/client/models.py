"""What the gateway answers, as typed values (msgspec Structs, camelCase on the wire).

Unknown fields are ignored, so a newer gateway (more fields) never breaks an older
client; a field the gateway leaves out takes its default.
"""

from __future__ import annotations

from typing import Any

import msgspec

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "COMPLETED"})


class _Wire(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of every answer: camelCase names, unknown fields ignored."""


class DeploymentAccepted(_Wire, frozen=True):
    """``POST /api/v1/deploy``'s 202."""

    deployment_id: str
    status: str = "PENDING"
    image: str = ""
    events_url: str = ""
    result_url: str = ""


class ActionAccepted(_Wire, frozen=True):
    """An ops action's 202 (cancel, rollback, scale, restart).

    The gateway waits a moment for the outcome, so ``status`` is usually already
    ``SUCCEEDED`` or ``FAILED`` (``error_code`` and ``message`` say why); ``PENDING``
    otherwise. A rollback's and a cancel's ``deployment_id`` is the one to follow.
    """

    action_id: str
    action: str = ""
    status: str = "PENDING"
    error_code: str | None = None
    message: str | None = None
    deployment_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


class StageResult(_Wire, frozen=True):
    stage: str
    status: str
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: float | None = None
    message: str | None = None
    error_code: str | None = None


class ColourStats(_Wire, frozen=True):
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    error_rate: float | None = None


class DeploymentResult(_Wire, frozen=True):
    """``GET /api/v1/deploy/{id}/result``: the read model's view of one deployment."""

    deployment_id: str
    app_name: str = ""
    namespace: str = ""
    image: str = ""
    status: str = "PENDING"
    """Panda's word: PENDING, RUNNING, COMPLETED or FAILED (ADR 0024)."""
    phase: str | None = None
    """Ours, finer: … SUCCEEDED, FAILED, CANCELLED, ROLLED_BACK (ADR 0024)."""
    stage: str | None = None
    colour: str | None = None
    previous_colour: str | None = None
    serving_colour: str | None = None
    url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_stage: str | None = None
    rolled_back: bool | None = None
    total_duration_ms: float | None = None
    stages: list[StageResult] = msgspec.field(default_factory=list)
    new_colour: ColourStats | None = None
    old_colour: ColourStats | None = None
    created_at: str | None = None
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class DeploymentSummary(_Wire, frozen=True):
    """One row of ``GET /api/v1/deployments``."""

    deployment_id: str
    app_name: str = ""
    namespace: str = ""
    image: str = ""
    status: str = ""
    phase: str | None = None
    stage: str | None = None
    url: str | None = None
    error_code: str | None = None
    created_at: str | None = None
    finished_at: str | None = None


class LogLine(_Wire, frozen=True):
    """One captured pod log line (``event: log`` and the log pages' items)."""

    position: str = ""
    time: str = ""
    level: str = "UNKNOWN"
    source: str = ""
    source_inferred: bool | None = None
    namespace: str = ""
    app: str = ""
    pod: str = ""
    container: str = ""
    node: str = ""
    text: str = ""


class LogPage(_Wire, frozen=True):
    """``GET /api/v1/logs/{app}``: a page of history, oldest first."""

    items: list[LogLine] = msgspec.field(default_factory=list)
    gaps: list[dict[str, Any]] = msgspec.field(default_factory=list)
    limit: int = 0
    has_more: bool = False
    prev: str | None = None
    next: str | None = None


class StreamEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One server-sent event: its ``id:`` (a position), ``event:`` name and JSON data."""

    id: str
    event: str
    data: dict[str, Any]

    def as_log_line(self) -> LogLine:
        return msgspec.convert(self.data, LogLine)


def convert(data: Any, kind: type[Any]) -> Any:
    """``data`` (decoded JSON) as ``kind``, or :class:`ValueError` saying what did not fit."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise ValueError(f"unexpected answer from the gateway: {exc}") from None
