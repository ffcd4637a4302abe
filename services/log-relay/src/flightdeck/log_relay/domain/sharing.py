"""Which replica should follow a container: rendezvous hashing over the live replicas.

Every replica computes the same owner from the same member list, without
talking: each container goes to the member with the highest hash of
(member, container). A member joining or leaving moves only its own share.
Leases still decide who actually follows; this only says who should try first,
so containers spread over replicas instead of going to whoever started first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from flightdeck.log_relay.domain.selection import ContainerKey


def _weight(member: str, key: ContainerKey) -> bytes:
    return hashlib.blake2b(f"{member}\0{key}".encode(), digest_size=8).digest()


def preferred_owner(key: ContainerKey, members: Iterable[str]) -> str | None:
    """The member that should follow ``key``; ``None`` when there are no members."""
    return max(members, key=lambda member: (_weight(member, key), member), default=None)
