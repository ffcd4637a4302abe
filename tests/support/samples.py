"""Sample events of every stream, for tests that need realistic payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flightdeck.events import subjects
from flightdeck.events.artifacts import ImageObserved
from flightdeck.events.audit import OpsAction, OpsActionRequested, OpsActionSucceeded
from flightdeck.events.base import Message
from flightdeck.events.cluster import ContainerPhase, ContainerState, PodObserved
from flightdeck.events.commands import StartDeployment, WatchImage, deployment_requested
from flightdeck.events.deployments import (
    Colour,
    DeploymentRequested,
    Stage,
    StageProgressed,
    StageStarted,
)
from flightdeck.events.logs import LogLevel, LogLine, LogLinesCaptured, LogSource
from flightdeck.events.monitors import MonitorCreated
from flightdeck.events.probes import ProbeCompleted, ProbePurpose

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def requested(
    deployment_id: str,
    app: str = "web",
    *,
    tenant: str = "acme",
    namespace: str = "default",
    tag: str = "v1",
    registry: str | None = "123.dkr.ecr.us-east-1.amazonaws.com",
    **fields: Any,
) -> DeploymentRequested:
    """A deployment's request as the orchestrator records it (the one builder, ADR 0020)."""
    command = StartDeployment(
        deployment_id=deployment_id,
        tenant=tenant,
        app=app,
        namespace=namespace,
        repository=fields.pop("repository", app),
        tag=tag,
        registry=registry,
        **fields,
    )
    return deployment_requested(command)


def progressed(n: int) -> StageProgressed:
    return StageProgressed(stage=Stage.ROLLOUT, message=f"pod {n} ready", detail={"n": n})


def one_of_each(key: str) -> list[tuple[str, Message]]:
    """(subject, event) for one event of every stream."""
    return [
        (subjects.deployment(key), requested(key)),
        (subjects.deployment(key), StageStarted(stage=Stage.ARTIFACT, deadline=T0)),
        (
            subjects.image("team/web", "v1"),
            ImageObserved(
                repository="team/web", tag="v1", digest="sha256:ab", pushed_at=T0, size_bytes=10
            ),
        ),
        (
            subjects.cluster_object("default", "Pod", f"web-{key}"),
            PodObserved(
                namespace="default",
                name=f"web-{key}",
                uid="u1",
                labels={"app": "web", "colour": Colour.BLUE},
                owner="web-blue-abc",
                phase="Running",
                ready=True,
                node="node-1",
                pod_ip="10.0.0.2",
                host_ip="192.168.0.1",
                containers=[
                    ContainerState(
                        name="app",
                        image="web:v1",
                        phase=ContainerPhase.RUNNING,
                        ready=True,
                        restart_count=0,
                        started_at=T0,
                    )
                ],
                resource_version="42",
            ),
        ),
        (
            subjects.pod_logs("default", "web", f"web-{key}"),
            LogLinesCaptured(
                namespace="default",
                pod=f"web-{key}",
                container="app",
                node="node-1",
                app="web",
                lines=[
                    LogLine(
                        time=T0,
                        source=LogSource.STDERR,
                        source_inferred=True,
                        level=LogLevel.ERROR,
                        text="boom",
                    ),
                ],
            ),
        ),
        (
            subjects.probe(key),
            ProbeCompleted(
                target=key,
                purpose=ProbePurpose.VERIFY,
                url="http://x/health",
                ok=True,
                status_code=200,
                latency_ms=3.2,
            ),
        ),
        (
            subjects.monitor(key),
            MonitorCreated(monitor_id=key, tenant="acme", name="home", url="http://x/"),
        ),
        (
            subjects.ops("acme", "web"),
            OpsActionRequested(
                action_id=key,
                tenant="acme",
                app="web",
                action=OpsAction.SCALE,
                namespace="default",
                target="",
                replicas=3,
            ),
        ),
        (
            subjects.ops("acme", "web"),
            OpsActionSucceeded(
                action_id=key,
                action=OpsAction.SCALE,
                namespace="default",
                target="web-blue",
            ),
        ),
        (
            subjects.command("ecr-poller", "watch"),
            WatchImage(repository="web", tag="v1", deadline=T0),
        ),
    ]
