"""The orchestrator's tenancy check (ADR 0012): a request that did not come through the
gateway's check fails with its code, claims nothing and writes nothing to the cluster."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Cause, subjects
from flightdeck.events.deployments import DeploymentFailed
from flightdeck.runtime.ownership import Ownership
from tests.integration.pipeline.conftest import OTHERS, UNWATCHED
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, milestones, summary

pytestmark = pytest.mark.integration


async def objects_in(kube: client.ApiClient, namespace: str) -> list[str]:
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    networking = client.NetworkingV1Api(kube)
    found = [
        *(await apps.list_namespaced_deployment(namespace)).items,
        *(await core.list_namespaced_service(namespace)).items,
        *(await networking.list_namespaced_ingress(namespace)).items,
    ]
    return sorted(f"{o.kind or type(o).__name__}/{o.metadata.name}" for o in found)


@pytest.mark.parametrize(
    ("namespace", "app", "code"),
    [
        ("kube-system", "intruder", "NAMESPACE_PROTECTED"),
        ("flightdeck", "intruder", "NAMESPACE_PROTECTED"),
        (OTHERS, "intruder", "NAMESPACE_NOT_OWNED"),
        ("nobodys", "intruder", "NAMESPACE_NOT_OWNED"),
        (UNWATCHED, "intruder", "NAMESPACE_NOT_WATCHED"),
        (NAMESPACE, "stolen", "APP_NOT_OWNED"),
    ],
)
async def test_a_request_the_gateway_would_refuse_fails_without_touching_the_cluster(
    pipeline: Pipeline, kube: client.ApiClient, namespace: str, app: str, code: str
) -> None:
    if app == "stolen":  # a claim by another tenant in our namespace, written by hand
        await Ownership(pipeline.store).claim_app(
            "others", NAMESPACE, app, "forged", Cause.root("user:tests")
        )
    before = await objects_in(kube, namespace)
    deployment = await pipeline.deploy(app, "v1", namespace=namespace)
    records = await pipeline.finished(deployment)
    assert milestones(records) == ["deploy.requested", "deploy.failed"], summary(records)
    failed = records[-1].event
    assert isinstance(failed, DeploymentFailed)
    assert (failed.error_code, failed.rolled_back) == (code, False)
    assert await pipeline.store.read_last(subjects.app(namespace, app)) is None, "no slot claimed"
    assert await objects_in(kube, namespace) == before
