"""Builds the orchestrator from its settings: the one place adapters are constructed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from flightdeck.events import subjects
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.adapters.aggregates import AppSlots, Deployments
from flightdeck.orchestrator.adapters.kubernetes import Kubernetes
from flightdeck.orchestrator.adapters.tenancy import TenancyGate
from flightdeck.orchestrator.config import OrchestratorSettings
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.service_layer import handlers
from flightdeck.orchestrator.service_layer.effects import EffectRunner
from flightdeck.orchestrator.service_layer.pipeline import Pipeline
from flightdeck.orchestrator.service_layer.ports import AlarmsFactory, ClusterWrites, TenancyCheck
from flightdeck.orchestrator.service_layer.timers import Timers
from flightdeck.runtime import contract
from flightdeck.runtime.consumers import ConsumerSpec
from flightdeck.runtime.kube import KubernetesSettings, api_client
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.settings import load_section
from flightdeck.runtime.tenancy import TenantSettings

SERVICE = "orchestrator"
CANCEL = subjects.command(SERVICE, "cancel")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Orchestrator:
    pipeline: Pipeline
    kube: Kubernetes
    settings: OrchestratorSettings
    consumers: list[ConsumerSpec]

    async def close(self) -> None:
        self.pipeline.timers.cancel_all()
        await self.kube.close()


async def build(
    store: EventStore,
    settings: OrchestratorSettings | None = None,
    k8s: KubernetesSettings | None = None,
    clock: Callable[[], datetime] = utc_now,
    tenancy: TenantSettings | None = None,
) -> Orchestrator:
    settings = settings or load_section(OrchestratorSettings)
    k8s = k8s or load_section(KubernetesSettings)
    tenancy = tenancy or load_section(TenantSettings)
    kube = Kubernetes(await api_client(k8s), k8s.request_timeout_s)
    gate = TenancyGate(Ownership(store), tenancy.protected(), frozenset(k8s.namespace_list()))
    pipeline = assemble(store, kube, settings.policy(), clock, gate)
    return Orchestrator(pipeline, kube, settings, consumer_specs(pipeline, settings))


def assemble(
    store: EventStore,
    kube: ClusterWrites,
    policy: Policy,
    clock: Callable[[], datetime],
    tenancy: TenancyCheck,
    alarms: AlarmsFactory = Timers,
) -> Pipeline:
    """The pipeline and the adapters it drives, given the cluster and the clock: what
    :func:`build` runs, and what the unit tests run with a fake cluster and clock."""
    slots = AppSlots(store)
    return Pipeline(
        store,
        Deployments(store),
        slots,
        EffectRunner(store, kube, slots),
        policy,
        clock,
        tenancy,
        alarms,
        cluster=kube,
    )


def consumer_specs(pipeline: Pipeline, settings: OrchestratorSettings) -> list[ConsumerSpec]:
    """The durable consumers every replica shares, one per stream it reads."""
    handle = partial(handlers.dispatch, pipeline)

    # The durables are declared in the service's contract (its NATS permissions and the
    # AsyncAPI document derive from the same declaration, ADR 0019).
    return [
        ConsumerSpec.of(
            durable,
            handle,
            start=settings.consumer_start,
            concurrency=settings.concurrency,
            ack_wait_s=settings.ack_wait_s,
        )
        for durable in contract.ORCHESTRATOR.durables
    ]
