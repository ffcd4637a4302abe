"""The pipeline under test: sandbox (K8s + moto), NATS, and every service as a process.

Everything here is package-scoped: started once for the pipeline tests, and
stopped after them, so no other test ever sees an orchestrator acting on its
deployments.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Cause
from flightdeck.eventstore import EventStore
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.tenancy import protected_namespaces
from flightdeck.sandbox import Sandbox, SandboxConfig, Timings
from tests.integration.pipeline.harness import NAMESPACE, TENANT, Pipeline
from tests.support.kube import create_namespaces, kube_api

SANDBOX = SandboxConfig(speed=20.0, timings=Timings(bookmark_interval=20.0))
# Who owns what (ADR 0012): the orchestrator refuses a namespace its tenant does not own.
UNWATCHED = "pipeline-unwatched"
OTHERS = "pipeline-others"
TENANTS = {TENANT: [NAMESPACE, UNWATCHED], "others": [OTHERS]}


@pytest.fixture(scope="package")
async def pipeline_sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with Sandbox(Path(tmp_path_factory.mktemp("pipeline-sandbox")), config=SANDBOX) as sb:
        await create_namespaces(sb.kubeconfig, [NAMESPACE])
        yield sb


@pytest.fixture(scope="package")
async def kube(pipeline_sandbox: Sandbox) -> AsyncIterator[client.ApiClient]:
    async with kube_api(pipeline_sandbox.kubeconfig) as api:
        yield api


def service_env(nats: NatsServer, sb: Sandbox) -> dict[str, str]:
    """Short timeouts and fast polls: the same code paths as production, sooner."""
    return {
        **os.environ,
        "FLIGHTDECK_NATS__URL": nats.url,
        "FLIGHTDECK_LOG_LEVEL": "info",
        "FLIGHTDECK_K8S__KUBECONFIG": str(sb.kubeconfig),
        "FLIGHTDECK_K8S__NAMESPACES": NAMESPACE,
        "FLIGHTDECK_K8S_WATCHER__LEASE_TTL_S": "30",
        "FLIGHTDECK_K8S_WATCHER__METRICS_INTERVAL_S": "2",
        "FLIGHTDECK_K8S_WATCHER__WATCH_TIMEOUT_S": "60",
        "FLIGHTDECK_AWS__ENDPOINT_URL": sb.aws_endpoint,
        "FLIGHTDECK_AWS__REGION": sb.aws_region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "FLIGHTDECK_ECR_POLLER__INTERVAL_S": "0.2",
        "FLIGHTDECK_ECR_POLLER__MISSING_REPOSITORY_GRACE_S": "0",
        "FLIGHTDECK_PROBER__INTERVAL_SCALE": "0.1",
        "FLIGHTDECK_ORCHESTRATOR__SWITCH_DELAY_S": "0.3",
        "FLIGHTDECK_ORCHESTRATOR__RESUME_AFTER_S": "2",
        "FLIGHTDECK_ORCHESTRATOR__SCAN_INTERVAL_S": "1",
        "FLIGHTDECK_ORCHESTRATOR__RETRY_AFTER_S": "0.2",
        "FLIGHTDECK_ORCHESTRATOR__CONSUMER_START": "new",
        "FLIGHTDECK_ORCHESTRATOR__ACK_WAIT_S": "3",
        "FLIGHTDECK_ECR_POLLER__ACK_WAIT_S": "3",
    }


@pytest.fixture(scope="package")
async def pipeline(
    nats_server: NatsServer,
    store: EventStore,
    pipeline_sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Pipeline]:
    logs = Path(tmp_path_factory.mktemp("pipeline-logs"))
    await Ownership(store).record_configured(
        TENANTS, Cause.root("user:tests"), protected=protected_namespaces("flightdeck")
    )
    running = Pipeline(store, pipeline_sandbox, service_env(nats_server, pipeline_sandbox), logs)
    try:
        for name in ("k8s-watcher", "ecr-poller", "prober", "orchestrator"):
            running.spawn(name)
        for name in ("ecr-poller", "prober", "orchestrator"):
            await running.wait_consumers(name)
        await running.wait_leader()
        yield running
    finally:
        running.stop_all()
