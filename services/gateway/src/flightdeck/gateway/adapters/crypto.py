"""Secrets at rest: AES-256-GCM with a key from the settings, the key's id recorded.

The sealed form names its key id, so keys can be rotated: new secrets use the
current key, old ones stay readable while their key is still configured. The
associated data binds a ciphertext to its tenant and connection, so a sealed
secret copied onto another connection does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flightdeck.events.audit import SealedSecret


class SecretError(Exception):
    """A sealed secret cannot be opened (unknown key, tampered, or wrong binding)."""


class Sealer:
    """Seals and opens secrets with the configured keys (``key_id`` is the current one)."""

    def __init__(self, keys: dict[str, bytes], key_id: str) -> None:
        if key_id not in keys:
            raise ValueError(f"no key with id {key_id!r}")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.key_id = key_id

    def seal(self, secret: str, binding: str) -> SealedSecret:
        nonce = os.urandom(12)
        box = self._keys[self.key_id].encrypt(nonce, secret.encode(), binding.encode())
        text = base64.b64encode(nonce + box).decode()
        return SealedSecret(key_id=self.key_id, ciphertext=text)

    def open(self, sealed: SealedSecret, binding: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise SecretError(f"no key {sealed.key_id!r} configured to open this secret")
        raw = base64.b64decode(sealed.ciphertext)
        try:
            return key.decrypt(raw[:12], raw[12:], binding.encode()).decode()
        except InvalidTag as exc:
            raise SecretError("sealed secret does not open with its key and binding") from exc
