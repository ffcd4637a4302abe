"""The gateway's settings: ``FLIGHTDECK_GATEWAY__*`` environment variables.

Kept beside the gateway until the lead folds them into
``flightdeck.runtime.settings.Settings`` as a ``gateway`` section; the names
already follow that nesting, so nothing changes for an operator then.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.runtime.settings import ConfigError

# A fixed development key: only used when dev_mode is on and no key is given,
# so the embedded default works without configuration yet never in production.
DEV_SECRETS_KEY = "ZmxpZ2h0ZGVjay1kZXYta2V5LW5vdC1mb3ItcHJvZCE="


class GatewayConfig(BaseSettings):
    """Everything the gateway reads from its environment (documented in docs/api.md)."""

    model_config = SettingsConfigDict(env_prefix="FLIGHTDECK_GATEWAY__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    dev_mode: bool = False
    dev_tenant: str = "dev"
    dev_token: str = ""  # dev mode: this key instead of a fresh one per start
    secrets_key: str = ""
    secrets_key_id: str = "k1"
    max_connections: int = Field(1000, ge=1)
    client_buffer: int = Field(1024, ge=1)
    heartbeat_s: float = Field(15.0, gt=0)
    retry_ms: int = Field(3000, ge=0)
    close_after_done_s: float = Field(5.0, ge=0)
    idle_timeout_s: float = Field(1800.0, gt=0)
    slow_close_grace_s: float = Field(2.0, ge=0)
    ticket_ttl_s: float = Field(60.0, gt=0)
    deploy_concurrency: int = Field(10, ge=1)
    github_api_url: str = "https://api.github.com"
    aws_endpoint_url: str | None = None
    upstream_timeout_s: float = Field(10.0, gt=0)
    run_projector: bool = True
    gc_freeze: bool = True

    def key_material(self) -> bytes:
        """The 32-byte master key (base64, standard or URL-safe, padding optional) for
        sealing secrets and signing tickets; a bad key is a one-line ConfigError."""
        text = self.secrets_key or (DEV_SECRETS_KEY if self.dev_mode else "")
        if not text:
            raise ConfigError(
                "FLIGHTDECK_GATEWAY__SECRETS_KEY: must be set (32 random bytes, base64) "
                "unless FLIGHTDECK_GATEWAY__DEV_MODE=true"
            )
        padded = text.strip().replace("+", "-").replace("/", "_")
        try:
            key = base64.urlsafe_b64decode(padded + "=" * (-len(padded) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ConfigError("FLIGHTDECK_GATEWAY__SECRETS_KEY: must be base64 of exactly 32 bytes")
        return key
