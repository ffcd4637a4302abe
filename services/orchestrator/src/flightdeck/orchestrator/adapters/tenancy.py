"""The orchestrator's own tenancy check, behind the gateway's (defence in depth, ADR 0012).

A ``DeploymentRequested`` may reach the stream by another way than the gateway
(a bug, a hand-written event, a publisher with too wide permissions). Before
it claims the app or touches the cluster, the orchestrator reads the
namespace's owner and the app's claim from the event store and refuses what
the gateway would have refused.
"""

from __future__ import annotations

from flightdeck.events.deployments import DeploymentRequested
from flightdeck.orchestrator.domain.inputs import Refused
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.tenancy import deploy_refusal, refusal_message


class TenancyGate:
    """Says whether a requested deployment may go where it asks."""

    def __init__(
        self, ownership: Ownership, protected: frozenset[str], watched: frozenset[str] | None
    ) -> None:
        self.ownership = ownership
        self.protected = protected
        self.watched = watched

    async def refusal(self, request: DeploymentRequested) -> Refused | None:
        ns, app, tenant = request.namespace, request.app, request.tenant
        owner = None if ns in self.protected else await self.ownership.namespace_owner(ns)
        claimed = await self.ownership.app_owner(ns, app) if owner == tenant else None
        refusal = deploy_refusal(
            tenant,
            ns,
            namespace_owner=owner,
            app_owner=claimed,
            protected=self.protected,
            watched=self.watched,
        )
        return None if refusal is None else Refused(refusal.value, refusal_message(refusal, ns))
