"""Secrets at rest: AES-256-GCM under this installation's key, the key's id recorded.

Connection secrets (AWS keys, GitHub tokens) travel in events only sealed. The
gateway seals them; a service that must use one (the ecr-poller, with a
deployment's AWS connection) opens it with the same key. The sealed form names
its key id, so keys can rotate: new secrets use the current key, old ones stay
readable while their key is configured. The associated data binds a ciphertext
to its tenant and connection, so a sealed secret copied elsewhere does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.events.audit import SealedSecret
from flightdeck.runtime.settings import ConfigError

# A fixed development key: only when dev mode is on and no key is given, so the
# embedded default works without configuration yet never in production.
DEV_KEY = "ZmxpZ2h0ZGVjay1kZXYta2V5LW5vdC1mb3ItcHJvZCE="


class SecretsSettings(BaseSettings):
    """The installation's master key (sealed secrets, stream tickets)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_SECRETS__", extra="ignore", use_attribute_docstrings=True
    )

    key: str = ""
    """32 random bytes, base64: seals connection secrets, signs stream tickets
    (required, but for the gateway's dev mode; flightdeck up keeps one in the state dir)."""
    key_id: str = "k1"
    """Recorded with every sealed secret, so keys can rotate."""


class SecretError(Exception):
    """A sealed secret cannot be opened (unknown key, tampered, or wrong binding)."""


def master_key(settings: SecretsSettings, *, dev_mode: bool = False) -> bytes:
    """The 32-byte master key (standard or URL-safe base64, padding optional)."""
    text = settings.key or (DEV_KEY if dev_mode else "")
    if not text:
        raise ConfigError("FLIGHTDECK_SECRETS__KEY: must be set (32 random bytes, base64)")
    padded = text.strip().replace("+", "-").replace("/", "_")
    try:
        key = base64.urlsafe_b64decode(padded + "=" * (-len(padded) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError("FLIGHTDECK_SECRETS__KEY: must be base64 of exactly 32 bytes")
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per purpose from the master key, so one use cannot forge another."""
    return hmac.new(master, purpose.encode(), hashlib.sha256).digest()


def connection_binding(tenant: str, connection_id: str) -> str:
    """What a connection's sealed secret is bound to."""
    return f"{tenant}/{connection_id}"


class Sealer:
    """Seals and opens secrets with the configured keys (``key_id`` is the current one)."""

    def __init__(self, keys: dict[str, bytes], key_id: str) -> None:
        if key_id not in keys:
            raise ValueError(f"no key with id {key_id!r}")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.key_id = key_id

    @classmethod
    def from_settings(cls, settings: SecretsSettings, *, dev_mode: bool = False) -> Sealer:
        master = master_key(settings, dev_mode=dev_mode)
        return cls({settings.key_id: derive_key(master, "sealing")}, settings.key_id)

    def seal(self, secret: str, binding: str) -> SealedSecret:
        nonce = os.urandom(12)
        box = self._keys[self.key_id].encrypt(nonce, secret.encode(), binding.encode())
        return SealedSecret(key_id=self.key_id, ciphertext=base64.b64encode(nonce + box).decode())

    def open(self, sealed: SealedSecret, binding: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise SecretError(f"no key {sealed.key_id!r} configured to open this secret")
        raw = base64.b64decode(sealed.ciphertext)
        try:
            return key.decrypt(raw[:12], raw[12:], binding.encode()).decode()
        except InvalidTag as exc:
            raise SecretError("sealed secret does not open with its key and binding") from exc
