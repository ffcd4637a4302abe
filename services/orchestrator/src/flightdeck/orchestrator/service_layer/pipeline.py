"""Load, decide, append, then act: the one loop every input of a deployment goes through.

Per deployment, inputs are handled one at a time in this process (a lock), and
between processes by optimistic concurrency: the append names the position the
decision was taken at, and a ``ConcurrencyError`` means another replica moved
the deployment first, so we reload and decide again. Effects run only after
our append won, and their results come back through :meth:`Pipeline.advance`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import structlog

from flightdeck.events import Cause, ConcurrencyError, subjects
from flightdeck.events.apps import AppSlotClaimed
from flightdeck.events.base import Event
from flightdeck.events.deployments import (
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentStatus,
    StageFailed,
)
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.domain.decide import decide
from flightdeck.orchestrator.domain.effects import effects, observations_wanted, release_app
from flightdeck.orchestrator.domain.inputs import Busy, Input, Refused, Resume, Start, Tick
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.state import Deployment, Loaded
from flightdeck.orchestrator.domain.timing import next_wakeup
from flightdeck.orchestrator.service_layer.ports import (
    AlarmsFactory,
    ClusterWrites,
    DeploymentRepository,
    Effects,
    SlotRepository,
    TenancyCheck,
)
from flightdeck.orchestrator.service_layer.timers import Timers

log = structlog.get_logger(__name__)

ACTOR = "service:orchestrator"
_MAX_CONFLICTS = 20
_MAX_CHAINED_EFFECTS = 16
_SCAN_CONCURRENCY = 16


class Pipeline:
    """Advances deployments. One per process; every replica runs the same."""

    def __init__(
        self,
        store: EventStore,
        deployments: DeploymentRepository,
        slots: SlotRepository,
        runner: Effects,
        policy: Policy,
        clock: Callable[[], datetime],
        tenancy: TenancyCheck,
        alarms: AlarmsFactory = Timers,
        cluster: ClusterWrites | None = None,
    ) -> None:
        self.store = store
        self.cluster = cluster
        """The cluster, for ops actions (ADR 0022); the pipeline's own writes are effects."""
        self.tenancy = tenancy
        self.deployments = deployments
        self.slots = slots
        self.runner = runner
        self.policy = policy
        self.clock = clock
        self.timers = alarms(self.tick, clock)
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}
        self.appended = 0

    # ------------------------------------------------------------ entry points

    async def request(self, deployment_id: str, trigger: str) -> None:
        """A deployment just requested (by the command ``trigger``): check its target's
        tenancy, claim its app (and colour), then start it; a refused target fails it
        without a claim or a cluster write. Once started, asking again does nothing."""
        async with self._lock(deployment_id):
            loaded = await self.deployments.load(deployment_id)
            if loaded is None or loaded.state.status is not DeploymentStatus.PENDING:
                return
            given: Start | Busy | Refused | None = await self.tenancy.refusal(loaded.state.request)
            if given is None:
                given = await self._claim(loaded.state, trigger)
            await self._advance(deployment_id, given, trigger, 0)

    async def advance(self, deployment_id: str, given: Input, trigger: str | None) -> None:
        """Decide on ``given`` for one deployment and act on the outcome."""
        async with self._lock(deployment_id):
            await self._advance(deployment_id, given, trigger, 0)

    async def tick(self, deployment_id: str) -> None:
        await self.advance(deployment_id, Tick(), None)

    async def scan(self, *, requests: bool = False) -> int:
        """Find every open deployment (each app's current claim), resume it, and fire
        whatever deadline or retry of it is due.

        This is the durable timer (ADR 0014): deadlines are in the deployments'
        events, so a periodic scan fires every overdue one even when no message
        comes and no in-memory timer survived (a restart, a failed append). Run at
        start (``requests=True``: re-send requests a crash may have lost) and every
        ``scan_interval_s``. Deployments are handled side by side, each on its own:
        one that fails never holds the others back, and one being handled right now
        (its lock taken) is left to that handler instead of waited for.
        """
        open_ids = [
            r.event.deployment_id
            for r in await self.store.read_latest(subjects.ALL_APPS)
            if isinstance(r.event, AppSlotClaimed)
        ]
        gate = asyncio.Semaphore(_SCAN_CONCURRENCY)

        async def visit(deployment_id: str) -> None:
            if deployment_id in self._waiters and not requests:
                return
            async with gate:
                try:
                    await self.resume(deployment_id, requests=requests)
                    await self.tick(deployment_id)
                except Exception:
                    log.exception("scan of a deployment failed", deployment=deployment_id)

        await asyncio.gather(*(visit(d) for d in open_ids))
        return len(open_ids)

    async def resume(self, deployment_id: str, *, requests: bool = False) -> None:
        async with self._lock(deployment_id):
            loaded = await self._advance(deployment_id, Resume(requests=requests), None, 0)
            if loaded is None:
                return
            if loaded.state.finished:
                await self.runner.run(release_app(loaded.state), self._cause(loaded.state, None))
                return
            for effect in observations_wanted(loaded.state):
                outcome = await self.runner.run(effect, self._cause(loaded.state, None))
                if outcome is not None:
                    await self._advance(deployment_id, outcome, None, 1)

    # --------------------------------------------------------------- the loop

    async def _advance(
        self, deployment_id: str, given: Input, trigger: str | None, depth: int
    ) -> Loaded | None:
        """The loop, with this deployment's lock held. Returns the state it left."""
        for _ in range(_MAX_CONFLICTS):
            loaded = await self.deployments.load(deployment_id)
            if loaded is None:
                return None
            events = decide(loaded.state, given, self.clock(), self.policy)
            if not events:
                self.timers.arm(deployment_id, next_wakeup(loaded.state, self.policy))
                return loaded
            cause = self._cause(loaded.state, trigger)
            try:
                await self.store.append(
                    subjects.deployment(deployment_id),
                    events,
                    cause=cause,
                    expected=loaded.position,
                )
            except ConcurrencyError:
                continue  # another replica moved it: decide again on what it recorded
            self.appended += len(events)
            _log_outcome(deployment_id, events)
            after = await self.deployments.load(deployment_id)
            assert after is not None
            self.timers.arm(deployment_id, next_wakeup(after.state, self.policy))
            for effect in effects(after.state, events, self.policy):
                outcome = await self.runner.run(effect, self._cause(after.state, None))
                if outcome is not None and depth < _MAX_CHAINED_EFFECTS:
                    after = (
                        await self._advance(
                            deployment_id, outcome, after.state.last_event_id, depth + 1
                        )
                        or after
                    )
            return after
        raise RuntimeError(f"deployment {deployment_id}: too many concurrent appends")

    async def _claim(self, s: Deployment, trigger: str) -> Start | Busy:
        ns, app = s.request.namespace, s.request.app
        cause = self._cause(s, trigger)
        slots = await self.slots.claim(ns, app, s.id, cause)
        if slots.holder not in (None, s.id) and await self._free(ns, app, slots.holder):
            slots = await self.slots.claim(ns, app, s.id, cause)
        if slots.holder == s.id and slots.colour is not None:
            return Start(slots.colour, slots.previous)
        return Busy(holder=slots.holder or "?", serving=slots.serving)

    async def _free(self, namespace: str, app: str, holder: str) -> bool:
        """Release an app whose holder has ended (its own release was lost with its
        replica) or never existed. Returns whether the app was freed."""
        loaded = await self.deployments.load(holder)
        if loaded is not None and not loaded.state.finished:
            return False
        cause = Cause(actor=ACTOR, correlation_id=holder)
        if loaded is not None:
            await self.runner.run(release_app(loaded.state), cause)
        else:
            slots = await self.slots.load(namespace, app)
            failed = DeploymentStatus.FAILED
            await self.slots.release(namespace, app, holder, failed, slots.previous, cause)
        return True

    # ------------------------------------------------------------------ misc

    def _cause(self, s: Deployment, trigger: str | None) -> Cause:
        """Every event carries the deployment's correlation id and what caused it."""
        return Cause(
            actor=ACTOR,
            correlation_id=s.correlation_id,
            causation_id=trigger or s.last_event_id or None,
        )

    @asynccontextmanager
    async def _lock(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:
                del self._waiters[key]
                del self._locks[key]


def _log_outcome(deployment_id: str, events: list[Event]) -> None:
    for event in events:
        if isinstance(event, StageFailed):
            log.info(
                "stage failed",
                deployment=deployment_id,
                stage=event.stage.value,
                error=event.error_code,
            )
        elif isinstance(event, DeploymentCompleted | DeploymentFailed | DeploymentCancelled):
            log.info("deployment finished", deployment=deployment_id, outcome=event.type_name())
