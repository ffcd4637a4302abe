"""Schema evolution: small functions that lift an old payload one version up.

When a type's shape changes, bump its ``schema_version`` and register an
upcaster from the previous version here. Stored events never change; they are
upcast on read, so every version ever written stays readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

# (type tag, from_version) -> function returning the payload at from_version + 1.
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register ``fn`` as the step from ``from_version`` to ``from_version + 1``."""

    def register(fn: Upcaster) -> Upcaster:
        key = (type_name, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"an upcaster for {type_name} v{from_version} already exists")
        _UPCASTERS[key] = fn
        return fn

    return register


def upcast(type_name: str, payload: Payload, from_version: int, to_version: int) -> Payload:
    """Apply every step from ``from_version`` up to ``to_version``."""
    version = from_version
    while version < to_version:
        step = _UPCASTERS.get((type_name, version))
        if step is None:
            raise LookupError(f"no upcaster for {type_name} from v{version} to v{version + 1}")
        payload = step(payload)
        version += 1
    return payload
