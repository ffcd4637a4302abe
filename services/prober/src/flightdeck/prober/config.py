"""The prober's settings: ``FLIGHTDECK_PROBER__*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProberSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_PROBER__", extra="ignore", use_attribute_docstrings=True
    )

    concurrency: int = Field(256, ge=1)
    """Checks running at once."""
    max_connections: int = Field(200, ge=1)
    """HTTP connections kept open."""
    interval_scale: float = Field(1.0, ge=0)
    """Multiplies every verification's interval between checks (0 in fast tests)."""
