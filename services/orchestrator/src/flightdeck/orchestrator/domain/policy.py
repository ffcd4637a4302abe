"""The knobs of the pipeline that are the operator's, not the deployer's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """Timing and naming rules the decisions follow.

    Args:
        switch_delay_s: after traffic moved, how long the old colour keeps running
            (in-flight requests finish, a quick manual rollback stays possible).
        resume_after_s: an effect of our own (apply, switch, scale) with no news for
            this long is presumed lost with its replica, and is resumed.
        effect_attempts: tries of a failing apply/switch before the stage fails.
        retry_after_s: wait between those tries.
        ingress_domain: hosts are ``<app>.<domain>`` and ``<app>-<colour>.<domain>``.
        min_ready_s: ``minReadySeconds`` of every Deployment: a pod must stay Ready this
            long to count as available, so a crash right after start fails the rollout.
        progress_deadline_s: ``progressDeadlineSeconds`` of every Deployment.
        max_timeout_s: when set, caps every deployment's overall timeout
            (``DEPLOYMENT_TIMEOUT``).
    """

    switch_delay_s: float = 30.0
    resume_after_s: float = 15.0
    effect_attempts: int = 3
    retry_after_s: float = 2.0
    ingress_domain: str = "localhost"
    ingress_class: str | None = None
    min_ready_s: int = 5
    progress_deadline_s: int = 600
    max_timeout_s: float | None = None
