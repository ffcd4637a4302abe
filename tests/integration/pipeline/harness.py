"""The pipeline's services as real processes, and what tests do with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats.errors
from nats.js.errors import NotFoundError

from flightdeck.events import Recorded, streams, subjects
from flightdeck.events.deployments import (
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
)
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.entrypoints.sample import start_deployment
from flightdeck.sandbox import Sandbox
from tests.support.orchestration import milestones, summary
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

NAMESPACE = "pipeline"
TENANT = "demo"  # start_deployment's tenant; it owns NAMESPACE (ADR 0012)
TERMINAL = (DeploymentCompleted, DeploymentFailed, DeploymentCancelled)

CONSUMERS = {
    "orchestrator": [
        (streams.COMMANDS, "orchestrator-commands"),
        (streams.ARTIFACTS, "orchestrator-artifacts"),
        (streams.CLUSTER, "orchestrator-cluster"),
        (streams.PROBES, "orchestrator-probes"),
    ],
    "ecr-poller": [(streams.COMMANDS, "ecr-poller-commands")],
    "prober": [(streams.COMMANDS, "prober-commands")],
}
MODULES = {
    "orchestrator": "flightdeck.orchestrator",
    "k8s-watcher": "flightdeck.k8s_watcher",
    "ecr-poller": "flightdeck.ecr_poller",
    "prober": "flightdeck.prober",
}


@dataclass
class Pipeline:
    store: EventStore
    sandbox: Sandbox
    env: dict[str, str]
    logs: Path
    services: dict[str, list[ServiceProcess]] = field(default_factory=dict)

    def spawn(self, name: str, **extra_env: str) -> ServiceProcess:
        index = len(self.services.get(name, []))
        service = ServiceProcess(
            MODULES[name], {**self.env, **extra_env}, self.logs / f"{name}-{index}.log"
        ).start()
        self.services.setdefault(name, []).append(service)
        return service

    def one(self, name: str) -> ServiceProcess:
        return next(s for s in self.services[name] if s.running)

    def stop_all(self) -> None:
        for group in self.services.values():
            for service in group:
                if service.proc is not None and service.proc.poll() is None:
                    service.resume()  # a paused process cannot handle SIGTERM
                service.stop()

    def report(self) -> str:
        return "\n".join(
            f"--- {s.log.name}\n{s.tail()}" for group in self.services.values() for s in group
        )

    async def wait_consumers(self, name: str, replicas: int = 1, within: float = 30.0) -> None:
        """Until every durable consumer of ``name`` has ``replicas`` processes pulling."""
        js = self.store.nc.jetstream()

        async def pulling() -> bool:
            for stream, durable in CONSUMERS.get(name, []):
                try:
                    info = await js.consumer_info(stream, durable)
                except (NotFoundError, nats.errors.Error):
                    return False
                if (info.num_waiting or 0) < replicas:
                    return False
            return True

        await eventually(pulling, within=within, what=f"{name} consumers")

    async def wait_leader(self, within: float = 30.0) -> None:
        js = self.store.nc.jetstream()

        async def held() -> bool:
            try:
                kv = await js.key_value("fd_leases")
                await kv.get("k8s-watcher")
            except (NotFoundError, nats.errors.Error, Exception):
                return False
            return True

        await eventually(held, within=within, what="k8s-watcher lease")

    async def deploy(self, app: str, tag: str, **kw: Any) -> str:
        kw.setdefault("stage_timeout_s", 30.0)
        kw.setdefault("overall_timeout_s", 90.0)
        kw.setdefault("verify_checks", 3)
        kw.setdefault("namespace", NAMESPACE)
        return await start_deployment(
            self.store, app=app, tag=tag, registry="registry.local", tenant=TENANT, **kw
        )

    async def events(self, deployment_id: str) -> list[Recorded[Any]]:
        return await self.store.read(subjects.deployment(deployment_id))

    async def wait(
        self,
        deployment_id: str,
        until: Callable[[list[Recorded[Any]]], bool],
        within: float = 60.0,
        what: str = "",
    ) -> list[Recorded[Any]]:
        found: list[Recorded[Any]] = []

        async def check() -> bool:
            nonlocal found
            found = await self.events(deployment_id)
            return until(found)

        try:
            await eventually(check, within=within, what=what or f"deployment {deployment_id}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nevents: {summary(found)}\n{self.report()}") from None
        return found

    async def finished(self, deployment_id: str, within: float = 60.0) -> list[Recorded[Any]]:
        return await self.wait(
            deployment_id,
            lambda rs: any(isinstance(r.event, TERMINAL) for r in rs),
            within,
            f"deployment {deployment_id} to finish",
        )


__all__ = ["NAMESPACE", "TENANT", "Pipeline", "milestones", "summary"]
