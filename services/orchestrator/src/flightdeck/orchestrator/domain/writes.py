"""How a write to the cluster can fail, as the domain and the service layer see it.

The Kubernetes adapter turns its library's errors into this; the effect runner
decides from ``permanent`` whether the effect is retried.
"""

from __future__ import annotations


class KubeWriteError(Exception):
    """A write to the cluster failed; ``permanent`` when repeating it cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
