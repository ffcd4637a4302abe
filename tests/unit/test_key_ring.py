"""The key ring: one current key seals, every configured key opens (ADR 0015)."""

from __future__ import annotations

import base64
import os

import pytest

from flightdeck.events.audit import SealedSecret
from flightdeck.runtime.sealing import (
    Sealer,
    SecretError,
    SecretsSettings,
    derive_key,
    key_id,
)
from flightdeck.runtime.settings import ConfigError, load_section

pytestmark = pytest.mark.unit

BINDING = "acme/c1"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def sealer(key: str, *old: str) -> Sealer:
    return Sealer.from_settings(SecretsSettings(key=key, keys=",".join(old)))


def test_sealing_uses_the_current_key_and_names_it_by_a_derived_id() -> None:
    a = new_key()
    sealed = sealer(a).seal("s3cr3t", BINDING)
    assert sealed.key_id == key_id(base64.b64decode(a))
    assert sealed.key_id == sealer(a).key_id  # the same key, the same id, in any process
    assert sealed.key_id != sealer(new_key()).key_id
    assert a not in sealed.key_id and "s3cr3t" not in sealed.ciphertext


def test_a_secret_sealed_with_an_old_key_opens_through_the_ring_and_reseals_under_the_new() -> None:
    a, b = new_key(), new_key()
    old = sealer(a).seal("s3cr3t", BINDING)
    ring = sealer(b, a)
    assert ring.open(old, BINDING) == "s3cr3t"
    assert ring.is_current(old) is False
    resealed = ring.seal(ring.open(old, BINDING), BINDING)
    assert ring.is_current(resealed) and resealed.key_id == sealer(b).key_id
    assert sealer(b).open(resealed, BINDING) == "s3cr3t"  # the old key is no longer needed


def test_once_its_key_is_gone_an_old_secret_does_not_open_and_the_error_names_the_key() -> None:
    a, b = new_key(), new_key()
    old = sealer(a).seal("s3cr3t", BINDING)
    with pytest.raises(SecretError, match=old.key_id):
        sealer(b).open(old, BINDING)


def test_secrets_sealed_before_ids_were_derived_still_open_with_their_key() -> None:
    """Before the ring, the id was a setting (default ``k1``): such a secret is tried
    against each configured key; AES-GCM says which one it was."""
    a, b = new_key(), new_key()
    legacy = Sealer({"k1": derive_key(base64.b64decode(a), "sealing")}, "k1").seal("x", BINDING)
    assert legacy.key_id == "k1"
    assert sealer(b, a).open(legacy, BINDING) == "x"
    with pytest.raises(SecretError):
        sealer(b).open(legacy, BINDING)


def test_a_tampered_or_rebound_secret_does_not_open() -> None:
    ring = sealer(new_key())
    sealed = ring.seal("s3cr3t", BINDING)
    with pytest.raises(SecretError):
        ring.open(sealed, "globex/c1")
    flipped = base64.b64decode(sealed.ciphertext)
    flipped = flipped[:-1] + bytes([flipped[-1] ^ 1])
    with pytest.raises(SecretError):
        ring.open(
            SealedSecret(key_id=sealed.key_id, ciphertext=base64.b64encode(flipped).decode()),
            BINDING,
        )


@pytest.mark.parametrize("length", [0, 5, 31, 33, 64])
def test_a_key_that_is_not_32_bytes_is_refused_in_one_line_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    text = base64.b64encode(b"k" * length).decode() if length else "not base64!"
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY", text)
    with pytest.raises(ConfigError) as caught:
        load_section(SecretsSettings)
    message = str(caught.value)
    assert message.startswith("FLIGHTDECK_SECRETS__KEY:")
    assert "32 bytes" in message and "\n" not in message
    assert text not in message


def test_every_old_key_in_the_ring_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    short = base64.b64encode(b"12345").decode()
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEY", new_key())
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEYS", f"{new_key()}, {short}")
    with pytest.raises(ConfigError) as caught:
        load_section(SecretsSettings)
    message = str(caught.value)
    assert message.startswith("FLIGHTDECK_SECRETS__KEYS: entry 2")
    assert short not in message


def test_old_keys_without_a_current_key_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLIGHTDECK_SECRETS__KEYS", new_key())
    with pytest.raises(ConfigError, match="FLIGHTDECK_SECRETS__KEY"):
        Sealer.from_settings(load_section(SecretsSettings))
