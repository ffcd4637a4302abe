"""Kubernetes resource quantities (``250m``, ``12345n``, ``64Mi``) as numbers."""

from __future__ import annotations

import re

_CPU = {"n": 1e-6, "u": 1e-3, "m": 1.0}
_BYTES = {
    "Ki": 1 << 10,
    "Mi": 1 << 20,
    "Gi": 1 << 30,
    "Ti": 1 << 40,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def millicores(quantity: str) -> float:
    """CPU in millicores: ``"250m"`` → 250.0, ``"1"`` → 1000.0, ``"5000000n"`` → 5.0."""
    q = quantity.strip()
    if q and q[-1] in _CPU:
        return float(q[:-1]) * _CPU[q[-1]]
    return float(q) * 1000.0


def byte_count(quantity: str) -> int:
    """Memory in bytes: ``"64Mi"`` → 67108864, ``"1k"`` → 1000, ``"512"`` → 512."""
    q = quantity.strip()
    for suffix in sorted(_BYTES, key=len, reverse=True):
        if q.endswith(suffix):
            return int(float(q[: -len(suffix)]) * _BYTES[suffix])
    return int(float(q))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def seconds(duration: str) -> float:
    """A Go duration as Kubernetes prints it: ``"30s"`` → 30.0, ``"1m30s"`` → 90.0."""
    return sum(float(n) * _UNIT_S[unit] for n, unit in _DURATION.findall(duration))
