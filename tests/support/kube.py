"""A Kubernetes client of a test's sandbox, configured from its kubeconfig as production does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from kubernetes_asyncio import client, config


@contextlib.asynccontextmanager
async def kube_api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    """A kubernetes-asyncio client of the cluster in ``kubeconfig``."""
    configuration = client.Configuration()
    await config.load_kube_config(str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield api


async def create_namespaces(kubeconfig: Path, names: Iterable[str]) -> None:
    async with kube_api(kubeconfig) as api:
        for name in names:
            await client.CoreV1Api(api).create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
            )
