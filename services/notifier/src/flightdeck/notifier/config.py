"""The notifier's settings: ``FLIGHTDECK_NOTIFIER__*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_NOTIFIER__", extra="ignore", use_attribute_docstrings=True
    )

    max_attempts: int = Field(5, ge=1, le=20)
    """Attempts at one delivery before it is dead-lettered."""
    timeout_s: float = Field(10.0, gt=0)
    """How long one attempt (an HTTP request, an SMTP session) may take."""
