"""What the pipeline needs of the outside world, each as a small Protocol.

The event store is the shared port of ``flightdeck.events``; these are the
orchestrator's own, satisfied structurally by its adapters
(:mod:`~flightdeck.orchestrator.adapters.aggregates`,
:mod:`~flightdeck.orchestrator.adapters.effects`,
:mod:`~flightdeck.orchestrator.adapters.tenancy`), so a test can hand the
pipeline fakes of exactly these methods.
"""

from __future__ import annotations

from typing import Protocol

from flightdeck.events import Cause
from flightdeck.events.deployments import Colour, DeploymentRequested, DeploymentStatus
from flightdeck.orchestrator.domain.effects import Effect
from flightdeck.orchestrator.domain.inputs import Input, Refused
from flightdeck.orchestrator.domain.slots import Slots
from flightdeck.orchestrator.domain.state import Loaded


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
