"""Health checks and their verdicts: ``fd.evt.probe.<target>``.

The same probe result serves a deployment's Verify stage and an uptime monitor;
``purpose`` says which asked for it.
"""

from __future__ import annotations

import enum

from flightdeck.events.base import Event
from flightdeck.events.deployments import Colour, ColourStats


class ProbePurpose(enum.StrEnum):
    VERIFY = "verify"
    MONITOR = "monitor"


class ProbeCompleted(Event, frozen=True, kw_only=True, tag="probe.completed"):
    """One HTTP check. ``error`` is set when no acceptable answer came back."""

    target: str
    purpose: ProbePurpose
    url: str
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error: str | None = None
    deployment_id: str | None = None
    colour: Colour | None = None
    monitor_id: str | None = None
    check: int | None = None
    """1-based number of this check within its verification."""
    host: str | None = None
    """The Host header sent, when it differs from the URL's host."""


class VerificationCompleted(Event, frozen=True, kw_only=True, tag="probe.verification_completed"):
    """The verdict on a new colour, with the old colour's figures beside it."""

    deployment_id: str
    passed: bool
    new: ColourStats
    old: ColourStats | None
    reason: str | None = None
    error_code: str | None = None
    """Set when no check could run at all: ``VERIFY_TARGET_INVALID`` (a URL or Host
    header the prober cannot send, e.g. a health path with CR/LF)."""


ProbeEvent = ProbeCompleted | VerificationCompleted
