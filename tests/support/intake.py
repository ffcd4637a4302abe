"""The orchestrator's command intake alone: for tests of the gateway, without a pipeline.

``POST /api/v1/deploy`` sends a ``StartDeployment`` and answers once the
orchestrator has recorded its ``DeploymentRequested`` (ADR 0020). Gateway tests
need that record, not a deployment that runs: this takes each command from the
store and records it with the orchestrator's own intake, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from flightdeck.events import streams, subjects
from flightdeck.events.commands import RunOpsAction, StartDeployment
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.adapters.tenancy import TenancyGate
from flightdeck.orchestrator.bootstrap import assemble
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.service_layer.intake import record_request
from flightdeck.orchestrator.service_layer.ops import on_ops_action
from flightdeck.orchestrator.service_layer.pipeline import Pipeline
from flightdeck.orchestrator.service_layer.ports import ClusterWrites
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.tenancy import protected_namespaces


@contextlib.asynccontextmanager
async def command_intake(store: EventStore) -> AsyncIterator[list[str]]:
    """Record every ``StartDeployment`` sent from now on; yields the ids recorded so far."""
    recorded: list[str] = []
    after = await store.stream_last_position(streams.COMMANDS)
    started = asyncio.Event()

    async def take() -> None:
        async with store.subscribe(subjects.START_DEPLOYMENT, after=after) as commands:
            started.set()
            async for command in commands:
                started_now = isinstance(command.event, StartDeployment)
                if started_now and await record_request(store, command):
                    recorded.append(command.event.deployment_id)

    task = asyncio.create_task(take(), name="command intake")
    try:
        await started.wait()
        yield recorded
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def ops_intake(store: EventStore, cluster: ClusterWrites) -> AsyncIterator[Pipeline]:
    """The orchestrator's ``RunOpsAction`` handler, on ``store``, writing to ``cluster``:
    every ops command sent from now on is handled as the orchestrator handles it."""
    gate = TenancyGate(Ownership(store), protected_namespaces("flightdeck"), None)
    pipeline = assemble(store, cluster, Policy(), lambda: datetime.now(UTC), gate)
    after = await store.stream_last_position(streams.COMMANDS)
    started = asyncio.Event()

    async def take() -> None:
        async with store.subscribe(subjects.RUN_OPS_ACTION, after=after) as commands:
            started.set()
            async for command in commands:
                if isinstance(command.event, RunOpsAction):
                    await on_ops_action(pipeline, command)

    task = asyncio.create_task(take(), name="ops intake")
    try:
        await started.wait()
        yield pipeline
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pipeline.timers.cancel_all()
