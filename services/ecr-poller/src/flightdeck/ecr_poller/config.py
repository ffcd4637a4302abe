"""The poller's own settings (``FLIGHTDECK_ECR_POLLER__*``); where AWS is, is
:class:`flightdeck.runtime.aws.AwsSettings` (``FLIGHTDECK_AWS__*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PollerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_ECR_POLLER__", extra="ignore", use_attribute_docstrings=True
    )

    interval_s: float = Field(5.0, gt=0)
    """Seconds between polls of one repository."""
    backoff_max_s: float = Field(60.0, gt=0)
    """Longest back-off after failed polls."""
    missing_repository_grace_s: float = Field(60.0, ge=0)
    """How long a watch waits for a repository that does not exist (some registries create it on the first push) before failing with REPOSITORY_NOT_FOUND; 0 fails at the first poll."""
    max_watches: int = Field(5000, ge=1)
    """Watches held at once."""
    ack_wait_s: float = Field(30.0, ge=1)
    """How long a watch request may stay unanswered before redelivery."""
