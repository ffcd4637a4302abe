"""What publishing a log event answers: where it landed, or a refusal.

Shared by the outbox (service layer) and the publisher adapter, which meet
only here (the layering contracts in the root ``pyproject.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass


class PublishRefused(Exception):
    """JetStream answered with an error: sending the same message again will not help."""


@dataclass(frozen=True)
class Published:
    """Where an event landed; ``duplicate``: an earlier publish with its id already did."""

    position: int
    duplicate: bool
