"""Secrets at rest: AES-256-GCM under this installation's key ring, the key's id recorded.

Connection secrets (AWS keys, GitHub tokens) travel in events only sealed. The
gateway seals them; a service that must use one (the ecr-poller, with a
deployment's AWS connection) opens it with the same keys. The ring is one
current key, which seals, and any number of old ones, which only open
(``FLIGHTDECK_SECRETS__KEY`` and ``FLIGHTDECK_SECRETS__KEYS``): ``flightdeck
secrets rotate`` re-seals every stored secret under the current key, after
which an old key can go (ADR 0015). A key's id is derived from the key itself,
so every process names the same key the same way with nothing to configure.
The associated data binds a ciphertext to its tenant and connection, so a
sealed secret copied elsewhere does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from flightdeck.events.audit import SealedSecret
from flightdeck.runtime.secretfiles import SecretFileSettings
from flightdeck.runtime.settings import ConfigError

# A fixed development key: only when dev mode is on and no key is given, so the
# embedded default works without configuration yet never in production.
DEV_KEY = "ZmxpZ2h0ZGVjay1kZXYta2V5LW5vdC1mb3ItcHJvZCE="

KEY_VARIABLE = "FLIGHTDECK_SECRETS__KEY"
RING_VARIABLE = "FLIGHTDECK_SECRETS__KEYS"
_DERIVED_ID = "k-"  # ids derived from the key; any other id predates the ring


class SecretsSettings(SecretFileSettings):
    """The installation's master keys (sealed secrets, stream tickets)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_SECRETS__", extra="ignore", use_attribute_docstrings=True
    )
    secret_fields: ClassVar[tuple[str, ...]] = ("key", "keys")

    key: str = ""
    """The current key: 32 random bytes, base64 (`openssl rand -base64 32`). Seals connection
    secrets and signs stream tickets (required, but for the gateway's dev mode; flightdeck up
    keeps one in the state dir)."""
    keys: str = ""
    """Earlier keys, base64, comma-separated: they still open what they sealed until
    `flightdeck secrets rotate` has re-sealed it under the current key."""

    @field_validator("key")
    @classmethod
    def _one_key(cls, value: str) -> str:
        if value.strip():
            decode_key(value, KEY_VARIABLE)
        return value.strip()

    @field_validator("keys")
    @classmethod
    def _old_keys(cls, value: str) -> str:
        old_keys(value)
        return value.strip()


class SecretError(Exception):
    """A sealed secret cannot be opened (unknown key, tampered, or wrong binding)."""


def decode_key(text: str, variable: str = KEY_VARIABLE) -> bytes:
    """32 bytes from standard or URL-safe base64 (padding optional).

    Raises :class:`ConfigError` naming ``variable``, never echoing the value (a
    key that is nearly right is nearly a secret).
    """
    padded = text.strip().replace("+", "-").replace("/", "_")
    try:
        key = base64.urlsafe_b64decode(padded + "=" * (-len(padded) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError(f"{variable}: must be base64 of exactly 32 bytes (not base64)") from None
    if len(key) != 32:
        raise ConfigError(
            f"{variable}: must be base64 of exactly 32 bytes, got {len(key)} bytes "
            "(make one with: openssl rand -base64 32)"
        )
    return key


def old_keys(text: str) -> list[bytes]:
    """The keys in ``FLIGHTDECK_SECRETS__KEYS`` (comma-separated, blanks ignored)."""
    out = []
    for number, entry in enumerate(text.split(","), start=1):
        if entry.strip():
            out.append(decode_key(entry, f"{RING_VARIABLE}: entry {number}"))
    return out


def master_key(settings: SecretsSettings, *, dev_mode: bool = False) -> bytes:
    """The current 32-byte master key (the development key in dev mode, if none is set)."""
    text = settings.key or (DEV_KEY if dev_mode else "")
    if not text:
        raise ConfigError(f"{KEY_VARIABLE}: must be set (32 random bytes, base64)")
    return decode_key(text)


def master_keys(settings: SecretsSettings, *, dev_mode: bool = False) -> list[bytes]:
    """The ring: the current key first, then the old ones (no repeats)."""
    ring = [master_key(settings, dev_mode=dev_mode)]
    for key in old_keys(settings.keys):
        if key not in ring:
            ring.append(key)
    return ring


def key_id(master: bytes) -> str:
    """The id a key is known by: derived from it, so nothing is configured, and
    one-way, so the id says nothing about the key."""
    return _DERIVED_ID + hmac.new(master, b"flightdeck key id", hashlib.sha256).hexdigest()[:12]


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per purpose from the master key, so one use cannot forge another."""
    return hmac.new(master, purpose.encode(), hashlib.sha256).digest()


def connection_binding(tenant: str, connection_id: str) -> str:
    """What a connection's sealed secret is bound to."""
    return f"{tenant}/{connection_id}"


def monitor_header_binding(tenant: str, monitor_id: str, header: str) -> str:
    """What a monitor's sealed header value is bound to (ADR 0027)."""
    return f"{tenant}/monitor/{monitor_id}/{header.lower()}"


SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_SECRET_WORDS = ("token", "secret", "password", "api-key", "apikey", "auth", "session")


def is_secret_header(name: str) -> bool:
    """Whether a monitor's request header carries a credential, so it is sealed at rest
    and never shown again: ``Authorization``, ``Cookie``, ``X-Api-Key`` and any header
    whose name says token, secret, password, api-key, auth or session."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in _SECRET_WORDS)


class Sealer:
    """Seals with the current key (``key_id``), opens with any key of the ring."""

    def __init__(self, keys: dict[str, bytes], key_id: str) -> None:
        if key_id not in keys:
            raise ValueError(f"no key with id {key_id!r}")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.key_id = key_id

    @classmethod
    def from_settings(cls, settings: SecretsSettings, *, dev_mode: bool = False) -> Sealer:
        ring = master_keys(settings, dev_mode=dev_mode)
        keys = {key_id(master): derive_key(master, "sealing") for master in ring}
        return cls(keys, key_id(ring[0]))

    def seal(self, secret: str, binding: str) -> SealedSecret:
        nonce = os.urandom(12)
        box = self._keys[self.key_id].encrypt(nonce, secret.encode(), binding.encode())
        return SealedSecret(key_id=self.key_id, ciphertext=base64.b64encode(nonce + box).decode())

    def is_current(self, sealed: SealedSecret) -> bool:
        """Whether ``sealed`` is already under the current key (nothing to re-seal)."""
        return sealed.key_id == self.key_id

    def open(self, sealed: SealedSecret, binding: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is not None:
            candidates = [key]
        elif sealed.key_id.startswith(_DERIVED_ID):
            raise SecretError(
                f"key {sealed.key_id} is not configured (add it to {RING_VARIABLE} to open this)"
            )
        else:  # sealed before ids were derived (a configured id, e.g. "k1"): try each key
            candidates = list(self._keys.values())
        raw = base64.b64decode(sealed.ciphertext)
        for candidate in candidates:
            try:
                return candidate.decrypt(raw[:12], raw[12:], binding.encode()).decode()
            except InvalidTag:
                continue
        raise SecretError(
            f"sealed secret (key {sealed.key_id}) does not open with its key and binding"
        )
