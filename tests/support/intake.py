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

from flightdeck.events import streams, subjects
from flightdeck.events.commands import StartDeployment
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.service_layer.intake import record_request


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
