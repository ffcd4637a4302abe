"""What the pipeline needs of the outside world, each as a small Protocol.

The event store is the shared port of ``flightdeck.eventstore``; these are the
orchestrator's own, satisfied structurally by its adapters
(:mod:`~flightdeck.orchestrator.adapters.aggregates`,
:mod:`~flightdeck.orchestrator.service_layer.effects`,
:mod:`~flightdeck.orchestrator.adapters.kubernetes`,
:mod:`~flightdeck.orchestrator.adapters.tenancy`), so a test can hand the
pipeline fakes of exactly these methods (``tests/support/orchestration.py``
fakes the cluster and the timers, and runs the rest for real).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from flightdeck.events import Cause
from flightdeck.events.deployments import Colour, DeploymentRequested, DeploymentStatus
from flightdeck.orchestrator.domain.effects import Effect
from flightdeck.orchestrator.domain.inputs import Input, Refused
from flightdeck.orchestrator.domain.manifests import Manifest
from flightdeck.orchestrator.domain.slots import Slots
from flightdeck.orchestrator.domain.state import Loaded


class ClusterWrites(Protocol):
    """The orchestrator's writes to Kubernetes; each raises :class:`KubeWriteError`."""

    async def apply(self, manifest: Manifest, manager: str) -> None:
        """Server-side apply ``manifest`` as field manager ``manager`` (creating it if missing)."""
        ...

    async def scale_to_zero(self, namespace: str, name: str) -> None:
        """Scale a Deployment to zero replicas; a missing one is already at zero."""
        ...

    async def delete_pod(self, namespace: str, name: str) -> None:
        """Delete a pod (its controller replaces it); a missing one raises with status 404."""
        ...

    async def restart_rollout(self, namespace: str, name: str, restarted_at: str) -> None:
        """Set the Deployment's pod-template ``restartedAt`` annotation (strategic merge
        patch, as ``kubectl rollout restart``)."""
        ...

    async def scale(self, namespace: str, name: str, replicas: int) -> None:
        """Set a Deployment's replicas through its ``scale`` subresource."""
        ...


class Alarms(Protocol):
    """One timer per open deployment (:class:`~flightdeck.orchestrator.service_layer.timers.Timers`)."""

    def arm(self, key: str, at: datetime | None) -> None: ...

    def cancel_all(self) -> None: ...

    def __len__(self) -> int: ...


AlarmsFactory = Callable[[Callable[[str], Awaitable[None]], Callable[[], datetime]], Alarms]
"""Builds the alarms from what they fire (``Pipeline.tick``) and the clock."""


class DeploymentRepository(Protocol):
    async def load(self, deployment_id: str) -> Loaded | None:
        """The deployment as stored now; ``None`` if it was never requested."""
        ...


class SlotRepository(Protocol):
    """The per-app claims that serialise deployments and remember the serving colour."""

    async def load(self, namespace: str, app: str) -> Slots: ...

    async def claim(self, namespace: str, app: str, deployment_id: str, cause: Cause) -> Slots: ...

    async def release(
        self,
        namespace: str,
        app: str,
        deployment_id: str,
        outcome: DeploymentStatus,
        serving: Colour | None,
        cause: Cause,
    ) -> None: ...


class Effects(Protocol):
    async def run(self, effect: Effect, cause: Cause) -> Input | None:
        """Carry out ``effect``; its outcome, if any, is the next decision's input."""
        ...


class TenancyCheck(Protocol):
    async def refusal(self, request: DeploymentRequested) -> Refused | None:
        """Why ``request`` may not go where it asks; ``None`` when it may."""
        ...
