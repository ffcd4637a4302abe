"""The watcher's settings: the cluster (``FLIGHTDECK_K8S__*``) and its own (``FLIGHTDECK_K8S_WATCHER__*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.runtime.settings import ConfigError

KINDS = ("Deployment", "ReplicaSet", "Pod", "Service", "Ingress", "Event")


class WatcherSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_K8S_WATCHER__", extra="ignore", use_attribute_docstrings=True
    )

    kinds: str = ",".join(KINDS)
    """Kinds watched, comma-separated."""
    watch_timeout_s: int = Field(300, ge=1)
    """Each watch request's server-side timeout (then it resumes)."""
    metrics_interval_s: float = Field(30.0, gt=0)
    """How often metrics.k8s.io is polled for pod CPU/memory."""
    lease_ttl_s: float = Field(10.0, ge=1)
    """Leader lease lifetime (only the leader publishes)."""
    lease_bucket: str = "fd_leases"
    """NATS KV bucket of the leader lease."""
    retry_max_s: float = Field(10.0, gt=0)
    """Longest back-off between failed list/watch attempts."""

    def kind_list(self) -> list[str]:
        wanted = [k.strip() for k in self.kinds.split(",") if k.strip()]
        unknown = set(wanted) - set(KINDS)
        if unknown:
            raise ConfigError(f"FLIGHTDECK_K8S_WATCHER__KINDS: unknown kinds {sorted(unknown)}")
        return wanted
