"""The orchestrator's settings: ``FLIGHTDECK_ORCHESTRATOR__*`` and ``FLIGHTDECK_K8S__*``.

Durations are seconds. Defaults suit production; tests shorten them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.orchestrator.domain.policy import Policy


class OrchestratorSettings(BaseSettings):
    """How the pipeline behaves (see :class:`~flightdeck.orchestrator.domain.policy.Policy`)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_ORCHESTRATOR__", extra="ignore", use_attribute_docstrings=True
    )

    switch_delay_s: float = Field(30.0, ge=0)
    """How long the old colour keeps running after traffic switches, before it is scaled to zero."""
    resume_after_s: float = Field(15.0, gt=0)
    """How long a deployment may go unobserved before the orchestrator looks at it again."""
    scan_interval_s: float = Field(10.0, gt=0)
    """How often open deployments are checked for passed deadlines."""
    effect_attempts: int = Field(3, ge=1)
    """Attempts of one cluster write before the stage fails."""
    retry_after_s: float = Field(2.0, ge=0)
    """Delay before a failed write or message is tried again."""
    ingress_domain: str = "localhost"
    """Hosts are <app>.<domain> (and <app>-<colour>.<domain> for previews)."""
    ingress_class: str | None = None
    """The Ingress class to request (cluster default when unset)."""
    min_ready_s: int = Field(5, ge=0)
    """minReadySeconds of every Deployment."""
    progress_deadline_s: int = Field(600, ge=1)
    """progressDeadlineSeconds of every Deployment."""
    deployment_timeout_s: float | None = Field(
        None,
        gt=0,
        validation_alias=AliasChoices(
            "FLIGHTDECK_ORCHESTRATOR__DEPLOYMENT_TIMEOUT_S", "DEPLOYMENT_TIMEOUT"
        ),
    )
    """Caps every deployment's overall timeout (DEPLOYMENT_TIMEOUT works too)."""
    consumer_start: Literal["all", "new"] = "all"
    """Where a new durable consumer starts: all (replay) or new."""
    concurrency: int = Field(64, ge=1)
    """Messages handled at once."""
    ack_wait_s: float = Field(30.0, ge=1)
    """A message handed to a replica that died is redelivered after this long."""

    def policy(self) -> Policy:
        return Policy(
            switch_delay_s=self.switch_delay_s,
            resume_after_s=self.resume_after_s,
            effect_attempts=self.effect_attempts,
            retry_after_s=self.retry_after_s,
            ingress_domain=self.ingress_domain,
            ingress_class=self.ingress_class,
            min_ready_s=self.min_ready_s,
            progress_deadline_s=self.progress_deadline_s,
            max_timeout_s=self.deployment_timeout_s,
        )
