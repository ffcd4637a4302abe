"""Panda's words for what Flightdeck reports, beside Flightdeck's own (ADR 0024).

Panda's clients read ``data.status === "COMPLETED"``, ``greenUrl``,
``durationSeconds``, ``greenLatencyMs``; an SSE payload's ``type``, ``message``
and ``details.stage``; a timeout's ``DEPLOYMENT_TIMEOUT`` with an error object
whose ``status`` is 408. Every mapping from our values to theirs is here, pure.
"""

from __future__ import annotations

from flightdeck.events.deployments import TIMED_OUT, DeploymentStatus, Stage

PANDA_STATUS = {
    DeploymentStatus.PENDING.value: "PENDING",
    DeploymentStatus.IN_PROGRESS.value: "RUNNING",
    DeploymentStatus.SUCCEEDED.value: "COMPLETED",
}
"""Our phase -> Panda's status; every other phase has ended without success: ``FAILED``."""

PHASES_OF = {
    "PENDING": (DeploymentStatus.PENDING.value,),
    "RUNNING": (DeploymentStatus.IN_PROGRESS.value,),
    "COMPLETED": (DeploymentStatus.SUCCEEDED.value,),
    "FAILED": (DeploymentStatus.FAILED.value, DeploymentStatus.CANCELLED.value),
}
"""Panda's status -> the phases it covers (a list filtered by Panda's status)."""

STAGE_NUMBER = {stage.value: n for n, stage in enumerate(Stage, start=1)}
"""``artifact`` 1 … ``complete`` 7; the request, before any stage, is 0."""

ERROR_STATUS = {
    TIMED_OUT: 408,
    "CANCELLED": 409,
    "DEPLOYMENT_CANCELLED": 409,
    "APP_BUSY": 409,
    "REPOSITORY_NOT_FOUND": 404,
    "NAMESPACE_PROTECTED": 403,
    "NAMESPACE_NOT_OWNED": 403,
    "APP_NOT_OWNED": 403,
}
"""The HTTP-like ``status`` of a failed deployment's error object; others are 422 (the
deployment could not be made to work)."""

REASON_PHRASE = {
    408: "Request Timeout",
    409: "Conflict",
    404: "Not Found",
    403: "Forbidden",
    422: "Unprocessable Entity",
}


def status(phase: str) -> str:
    """Panda's ``status`` for our ``phase``: PENDING, RUNNING, then COMPLETED or FAILED
    (a cancelled or rolled-back deployment is FAILED; its ``errorCode`` says which)."""
    return PANDA_STATUS.get(phase, "FAILED")


def stage_number(stage: str | None) -> int:
    """Panda's 1-based stage number (``0``: not yet in a stage)."""
    return STAGE_NUMBER.get(stage or "", 0)


def error_status(code: str) -> int:
    return ERROR_STATUS.get(code, 422)


def seconds(milliseconds: int | float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds / 1000, 3)
