"""What a registry lookup answers, and how it fails: the poller's port speaks these.

They live in the domain so that the service layer (which asks) and the ECR
adapter (which answers) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Image:
    tag: str
    digest: str
    pushed_at: datetime | None
    size_bytes: int | None
    registry_id: str | None


class RepositoryMissing(Exception):
    """The repository does not exist (yet)."""


class RegistryUnavailable(Exception):
    """The registry could not be asked (network, throttling, credentials): try again later."""
