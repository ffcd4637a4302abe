"""The cluster connection every Kubernetes-facing service shares.

``FLIGHTDECK_K8S__URL``, else ``FLIGHTDECK_K8S__KUBECONFIG`` (and ``__CONTEXT``),
else in-cluster credentials: the same configuration path whether the cluster
is real or the sandbox, so production code never knows which it talks to.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.runtime.settings import ConfigError


class KubernetesSettings(BaseSettings):
    """Which cluster, and which namespaces Flightdeck watches in it."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_K8S__", extra="ignore", use_attribute_docstrings=True
    )

    kubeconfig: Path | None = None
    """A kubeconfig file (the sandbox writes one); unset: URL or in-cluster credentials."""
    context: str | None = None
    """The kubeconfig context (default: its current one)."""
    url: str | None = None
    """An API server URL to use without credentials (takes precedence)."""
    namespaces: str = "default"
    """Namespaces to watch, comma-separated."""
    request_timeout_s: float = Field(30.0, gt=0)
    """Timeout of one API request."""

    def namespace_list(self) -> list[str]:
        return [n.strip() for n in self.namespaces.split(",") if n.strip()]


async def api_client(
    settings: KubernetesSettings, max_connections: int | None = None
) -> client.ApiClient:
    """A client for the configured cluster; ``max_connections`` raises the pool's limit
    (the generated default is 100) for services holding many streams open."""
    configuration = client.Configuration()
    if settings.url:
        configuration.host = settings.url
    elif settings.kubeconfig:
        await config.load_kube_config(
            config_file=str(settings.kubeconfig),
            context=settings.context,
            client_configuration=configuration,
            persist_config=False,
        )
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise ConfigError(
                "FLIGHTDECK_K8S__KUBECONFIG: no cluster configured (set it, or "
                f"FLIGHTDECK_K8S__URL, or run in a pod): {exc}"
            ) from None
    if max_connections is not None:
        configuration.connection_pool_maxsize = max_connections
    return client.ApiClient(configuration)
