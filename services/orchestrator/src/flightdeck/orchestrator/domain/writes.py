"""How a write to the cluster can fail, as the domain and the service layer see it.

The Kubernetes adapter turns its library's errors into this; the effect runner
decides from ``permanent`` whether the effect is retried.
"""

from __future__ import annotations


class KubeWriteError(Exception):
    """A write to the cluster failed; ``permanent`` when repeating it cannot help."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
        """The API server's HTTP status, when it answered (404: no such object)."""
