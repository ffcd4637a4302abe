"""One sandbox for the whole test session, and clients pointed at it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from flightdeck.sandbox import Sandbox, SandboxConfig, Timings
from tests.integration.sandbox.kubectl import Kubectl
from tests.support.kube import kube_api

# 20 simulated seconds per real second: a pod is Ready in about a quarter of a second,
# a CrashLoopBackOff back-off of 10 s takes half a second.
TEST_CONFIG = SandboxConfig(
    speed=20.0, log_lines_per_second=20.0, timings=Timings(bookmark_interval=20.0)
)


@pytest.fixture(scope="session")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with Sandbox(Path(tmp_path_factory.mktemp("sandbox")), config=TEST_CONFIG) as running:
        yield running


@pytest.fixture(scope="session")
async def api_client(sandbox: Sandbox) -> AsyncIterator[client.ApiClient]:
    """A kubernetes-asyncio client configured from the sandbox's kubeconfig, as production does."""
    async with kube_api(sandbox.kubeconfig) as api:
        yield api


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
async def namespace(core: client.CoreV1Api) -> AsyncIterator[str]:
    """A fresh namespace per test, so tests cannot see each other's objects."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    await core.delete_namespace(name)


@pytest.fixture(scope="session")
def kubectl(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    if shutil.which("kubectl") is None:
        pytest.skip(
            "kubectl is not installed on this machine (CI installs it from Debian's packages)"
        )
    home = Path(tmp_path_factory.mktemp("kubectl-home"))
    return Kubectl(sandbox.kubeconfig, home / "cache")
