"""API keys: how they look and how they are stored (``ApiTokenCreated.token_hash``).

Whoever mints a key (the tokens CLI, ``flightdeck up``'s dev key, the gateway)
and whoever checks one (the gateway) must agree on this, so it lives beside the
event that carries the hash.
"""

from __future__ import annotations

import base64
import hashlib
import os

PREFIX = "fdk_"  # recognisable in logs and by secret scanners


def new_api_key(random_bytes: bytes | None = None) -> str:
    """A key: the prefix and 32 random bytes (fresh unless given), URL-safe."""
    raw = os.urandom(32) if random_bytes is None else random_bytes
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hash_api_key(key: str) -> str:
    """What is stored for a key: its SHA-256, hex (keys are random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()
