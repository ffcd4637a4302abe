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

    model_config = SettingsConfigDict(env_prefix="FLIGHTDECK_ORCHESTRATOR__", extra="ignore")

    switch_delay_s: float = Field(30.0, ge=0)
    resume_after_s: float = Field(15.0, gt=0)
    scan_interval_s: float = Field(10.0, gt=0)
    effect_attempts: int = Field(3, ge=1)
    retry_after_s: float = Field(2.0, ge=0)
    ingress_domain: str = "localhost"
    ingress_class: str | None = None
    min_ready_s: int = Field(5, ge=0)
    progress_deadline_s: int = Field(600, ge=1)
    deployment_timeout_s: float | None = Field(
        None,
        gt=0,
        validation_alias=AliasChoices(
            "FLIGHTDECK_ORCHESTRATOR__DEPLOYMENT_TIMEOUT_S", "DEPLOYMENT_TIMEOUT"
        ),
    )
    consumer_start: Literal["all", "new"] = "all"
    concurrency: int = Field(64, ge=1)
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


