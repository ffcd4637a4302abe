"""The orchestrator's whole pipeline in one process, on the in-memory event store, no NATS.

Fakes stand only where the orchestrator meets the world outside it:

- :class:`~tests.support.fake_cluster.FakeCluster` is its Kubernetes (the ``ClusterWrites`` port): it records
  every write and may refuse some; what the cluster then does (pods starting,
  pulling an image in vain, crashing, never getting ready) comes back as the
  k8s-watcher would report it, cluster events on the store (:class:`Behaviour`);
- :class:`~tests.support.fake_services.FakeRegistry` and ``FakeProber`` answer the ``WatchImage`` and
  ``VerifyColour`` commands the pipeline sends, with the events the ecr-poller
  and the prober would append;
- :mod:`tests.support.manual_time` replaces time: a test moves the
  clock and fires the timers that are due, so nothing ever sleeps.

Everything between is the real thing: the orchestrator's consumers' subjects
and handlers (``bootstrap.consumer_specs``), the command intake, the pipeline,
the effect runner, the aggregates, the tenancy gate and the domain, wired by
``bootstrap.assemble``. Messages are handed over by :meth:`World.settle`, which
delivers every new one, in stream order, until nothing moves: deterministic, and
a whole deployment takes a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flightdeck.events import Cause, Codec, Recorded, new_id, streams, subjects
from flightdeck.events.audit import OpsAction
from flightdeck.events.base import Message
from flightdeck.events.commands import RunOpsAction, StartDeployment, VerifyColour, WatchImage
from flightdeck.events.deployments import (
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    StageProgressed,
)
from flightdeck.eventstore.memory import InMemoryEventStore
from flightdeck.eventstore.subjectfilter import matches
from flightdeck.orchestrator.adapters.tenancy import TenancyGate
from flightdeck.orchestrator.bootstrap import assemble, consumer_specs
from flightdeck.orchestrator.config import OrchestratorSettings
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.entrypoints.sample import cancel_deployment, sample_command, send_start
from flightdeck.orchestrator.service_layer.pipeline import Pipeline
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.tenancy import protected_namespaces
from tests.support.fake_cluster import Behaviour, FakeCluster
from tests.support.fake_services import FakeProber, FakeRegistry, Verdict
from tests.support.manual_time import ManualClock, ManualTimers

TENANT = "acme"
NAMESPACE = "apps"
TENANTS = {TENANT: [NAMESPACE], "globex": ["globex"]}
REGISTRY = "123.dkr.ecr.eu-west-1.amazonaws.com"
POLICY = Policy(switch_delay_s=30.0, resume_after_s=15.0, retry_after_s=2.0, min_ready_s=5)
TERMINAL = (DeploymentCompleted, DeploymentFailed, DeploymentCancelled)


Handler = Callable[[Recorded[Any]], Awaitable[None]]


@dataclass
class Feed:
    """One reader of the store: a stream, the subjects it takes, where it is, its handler."""

    stream: str
    filters: tuple[str, ...]
    handler: Handler
    position: int = 0


CAUSE = Cause.root("user:tests")
_MAX_ROUNDS = 500


class World:
    """The orchestrator and its fakes on one in-memory store. Build with :meth:`start`."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.clock = ManualClock()
        self.store = InMemoryEventStore(
            Codec("/flightdeck/orchestrator", clock=self.clock), clock=self.clock
        )
        self.cluster = FakeCluster()
        self.registry = FakeRegistry()
        self.prober = FakeProber()
        self.protected = protected_namespaces("flightdeck")
        self.policy = policy
        self.feeds = [
            Feed(streams.COMMANDS, (subjects.service_commands("ecr-poller"),), self._registry),
            Feed(streams.COMMANDS, (subjects.service_commands("prober"),), self._prober),
        ]
        self.pipeline = self._orchestrator()

    def _orchestrator(self, after: dict[str, int] | None = None) -> Pipeline:
        """A fresh orchestrator (empty caches and alarms) whose consumers go on ``after``
        the positions given, as a restarted process's durables do."""
        gate = TenancyGate(
            Ownership(self.store),
            self.protected,
            frozenset(n for ns in TENANTS.values() for n in ns),
        )
        pipeline = assemble(self.store, self.cluster, self.policy, self.clock, gate, ManualTimers)
        specs = consumer_specs(pipeline, OrchestratorSettings.model_construct())
        self.durables = {
            s.durable: Feed(s.stream, s.subjects, s.handler, (after or {}).get(s.durable, 0))
            for s in specs
        }
        return pipeline

    async def restart(self) -> None:
        """The orchestrator dies and a new one starts: what was in memory is lost, the
        durable consumers go on where they were acknowledged, and the first scan runs."""
        self.pipeline.timers.cancel_all()
        after = {durable: feed.position for durable, feed in self.durables.items()}
        self.pipeline = self._orchestrator(after)
        await self.pipeline.scan(requests=True)
        await self.settle()

    @classmethod
    async def start(cls, policy: Policy = POLICY) -> World:
        world = cls(policy)
        await Ownership(world.store).record_configured(TENANTS, CAUSE, protected=world.protected)
        return world

    @property
    def timers(self) -> ManualTimers:
        timers = self.pipeline.timers
        assert isinstance(timers, ManualTimers)
        return timers

    # --------------------------------------------------------------- acting

    async def deploy(self, app: str = "web", tag: str = "v1", **fields: Any) -> str:
        """Ask for a deployment as the gateway does (a ``StartDeployment``), then settle."""
        fields.setdefault("namespace", NAMESPACE)
        fields.setdefault("tenant", TENANT)
        fields.setdefault("registry", REGISTRY)
        fields.setdefault("stage_timeout_s", 60.0)
        fields.setdefault("overall_timeout_s", 600.0)
        fields.setdefault("verify_checks", 3)
        deployment_id = await send_start(self.store, self.command(app, tag, **fields))
        await self.settle()
        return deployment_id

    def command(self, app: str, tag: str, **fields: Any) -> StartDeployment:
        return sample_command(app=app, tag=tag, **fields)

    def push_image(self, repository: str, tag: str = "v1") -> None:
        self.registry.images.add((repository, tag))

    async def push_later(self, repository: str, tag: str = "v1") -> None:
        """The image lands while a watch for it is held."""
        for subject, event in self.registry.push(repository, tag):
            await self.store.append(subject, [event], cause=Cause.root("service:ecr-poller"))
        await self.settle()

    async def cancel(self, deployment_id: str, reason: str = "not today") -> None:
        await cancel_deployment(self.store, deployment_id, reason)
        await self.settle()

    async def claim(self, app: str, namespace: str = NAMESPACE, tenant: str = TENANT) -> None:
        """The app's first deployment's claim, as the gateway records it (ADR 0012)."""
        await Ownership(self.store).claim_app(tenant, namespace, app, "first", CAUSE)

    async def ops(
        self,
        action: OpsAction,
        app: str = "web",
        *,
        target: str = "",
        replicas: int | None = None,
        action_id: str | None = None,
        tenant: str = TENANT,
        namespace: str = NAMESPACE,
        actor: str = "key:ada",
    ) -> str:
        """Ask for an ops action as the gateway does (a ``RunOpsAction``), then settle;
        the action's id."""
        command = RunOpsAction(
            action_id=action_id or new_id(),
            tenant=tenant,
            app=app,
            action=action,
            namespace=namespace,
            target=target,
            replicas=replicas,
            token_id="tok-1",
        )
        await self.store.append(
            subjects.RUN_OPS_ACTION, [command], cause=Cause.root(actor, correlation_id=new_id())
        )
        await self.settle()
        return command.action_id

    async def later(self, seconds: float) -> None:
        """Let ``seconds`` pass: fire the alarms that came due, and what follows them."""
        self.clock.advance(seconds)
        for _ in range(_MAX_ROUNDS):
            if not await self.timers.fire_due():
                await self.settle()
                return
            await self.settle()
        raise AssertionError(f"alarms still firing after {_MAX_ROUNDS} rounds: {self.timers.armed}")

    async def settle(self) -> None:
        """Deliver every new message to its reader, in stream order, until none is left
        (and the cluster has reported every change)."""
        for _ in range(_MAX_ROUNDS):
            moved = await self._deliver_all()
            reported = self.cluster.observations()
            for subject, event in reported:
                await self.store.append(subject, [event], cause=Cause.root("service:k8s-watcher"))
            if not moved and not reported:
                return
        raise AssertionError(f"still busy after {_MAX_ROUNDS} rounds")

    # -------------------------------------------------------------- reading

    async def events(self, deployment_id: str) -> list[Recorded[Any]]:
        return await self.store.read(subjects.deployment(deployment_id))

    async def milestones(self, deployment_id: str) -> list[str]:
        return milestones(await self.events(deployment_id))

    async def outcome(self, deployment_id: str) -> Any:
        """The deployment's final event (it must have one)."""
        final = [r.event for r in await self.events(deployment_id) if isinstance(r.event, TERMINAL)]
        assert len(final) == 1, await self.milestones(deployment_id)
        return final[0]

    # ------------------------------------------------------------ internals

    async def _deliver_all(self) -> bool:
        moved = False
        for feed in [*self.durables.values(), *self.feeds]:
            chunks = self.store.read_chunks(feed.stream, after=feed.position)
            async for chunk in chunks:
                for recorded in chunk.events:
                    if any(matches(f, recorded.subject) for f in feed.filters):
                        await feed.handler(recorded)
                    moved = True
                feed.position = chunk.last_position
        return moved

    async def _registry(self, r: Recorded[Any]) -> None:
        if isinstance(r.event, WatchImage):
            await self._publish(self.registry.answer(r.event), "service:ecr-poller", r)

    async def _prober(self, r: Recorded[Any]) -> None:
        if isinstance(r.event, VerifyColour):
            await self._publish(self.prober.answer(r.event), "service:prober", r)

    async def _publish(
        self, answers: Sequence[tuple[str, Message]], actor: str, r: Recorded[Any]
    ) -> None:
        cause = Cause(actor=actor, correlation_id=r.correlation_id or r.id, causation_id=r.id)
        for subject, event in answers:
            await self.store.append(subject, [event], cause=cause)


def summary(records: list[Recorded[Any]]) -> list[str]:
    """``type[:stage]`` per event: a readable sequence for assertions and failure messages."""
    out = []
    for r in records:
        stage = getattr(r.event, "stage", None)
        staged = r.type.startswith("deploy.stage_") and stage is not None
        out.append(f"{r.type}:{getattr(stage, 'value', stage)}" if staged else r.type)
    return out


def milestones(records: list[Recorded[Any]]) -> list[str]:
    """The sequence without progress events (whose number depends on timing)."""
    return summary([r for r in records if not isinstance(r.event, StageProgressed)])


__all__ = ["Behaviour", "FakeCluster", "FakeProber", "FakeRegistry", "Verdict", "World"]
