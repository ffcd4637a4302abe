"""The poller's settings: AWS (``FLIGHTDECK_AWS__*``) and its own (``FLIGHTDECK_ECR_POLLER__*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AwsSettings(BaseSettings):
    """Where ECR is. Credentials come from the standard AWS chain unless a connection names some."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_AWS__", extra="ignore", use_attribute_docstrings=True
    )

    region: str = "us-east-1"
    """AWS region of the registry."""
    endpoint_url: str | None = None
    """An ECR-compatible endpoint (moto in the embedded default and the tests)."""
    access_key_id: str | None = None
    """Static access key id; unset: the standard AWS chain."""
    secret_access_key: str | None = None
    """Static credentials; when unset, the standard AWS chain (env, profile, role) applies."""


class PollerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_ECR_POLLER__", extra="ignore", use_attribute_docstrings=True
    )

    interval_s: float = Field(5.0, gt=0)
    """Seconds between polls of one repository."""
    backoff_max_s: float = Field(60.0, gt=0)
    """Longest back-off after failed polls."""
    max_watches: int = Field(5000, ge=1)
    """Watches held at once."""
    ack_wait_s: float = Field(30.0, ge=1)
    """How long a watch request may stay unanswered before redelivery."""
