"""Where AWS is, for every service that talks to it (``FLIGHTDECK_AWS__*``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from flightdeck.runtime.secretfiles import SecretFileSettings


class AwsSettings(SecretFileSettings):
    """Where AWS is: ECR for the poller, STS for the gateway's connection checks.

    Credentials come from the standard AWS chain unless a connection (or these
    settings) names some.
    """

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_AWS__", extra="ignore", use_attribute_docstrings=True
    )
    secret_fields: ClassVar[tuple[str, ...]] = ("access_key_id", "secret_access_key")

    region: str = "us-east-1"
    """AWS region of the registry (a connection names its own)."""
    endpoint_url: str | None = None
    """An AWS-compatible endpoint for ECR and STS (moto in the embedded default and the tests)."""
    access_key_id: str | None = None
    """Static access key id; unset: the standard AWS chain."""
    secret_access_key: str | None = None
    """Static credentials; when unset, the standard AWS chain (env, profile, role) applies."""
