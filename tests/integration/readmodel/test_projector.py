"""The projector on real JetStream and real databases (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect

from flightdeck.events import Cause, new_id, streams, subjects
from flightdeck.events.deployments import Stage, StageStarted
from flightdeck.eventstore import EventStore
from flightdeck.readmodel.database import Database, open_database
from flightdeck.readmodel.projector import Projector, rebuild
from flightdeck.readmodel.schema import metadata
from tests.integration.readmodel.support import caught_up, snapshot
from tests.support.samples import T0, one_of_each, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
cause = Cause.root("user:ada")


async def test_migrations_create_every_table_and_are_idempotent(database: Database) -> None:
    await database.migrate()  # a second start-up migrates nothing
    async with database.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


async def test_catch_up_then_live_one_event_at_a_time(
    store: EventStore, database: Database
) -> None:
    dep = new_id()
    subject = subjects.deployment(dep)
    position = (
        await store.append(subject, [requested(dep)], cause=cause, expected=0)
    ).last_position
    projector = Projector(store, database)
    task = asyncio.create_task(projector.run())
    try:
        await eventually(lambda: caught_up(projector, store), what="catch-up")
        await store.append(
            subject,
            [StageStarted(stage=Stage.ARTIFACT, deadline=T0)],
            cause=cause,
            expected=position,
        )

        async def started() -> bool:
            rows = await snapshot(database)
            row = next((r for r in rows["deployments"] if r["id"] == dep), None)
            return row is not None and row["status"] == "IN_PROGRESS"

        await eventually(started, what="the live event to be applied")
        rows = await snapshot(database)
        checkpoint = {r["stream"]: r["position"] for r in rows["projector_checkpoints"]}
        assert checkpoint[streams.DEPLOYMENTS] == await store.stream_last_position(
            streams.DEPLOYMENTS
        )
        assert any(
            r["deployment_id"] == dep and r["stage"] == "artifact"
            for r in rows["deployment_stages"]
        )
    finally:
        task.cancel()


async def test_unknown_events_are_skipped_counted_and_passed(
    store: EventStore, nc, database: Database
) -> None:
    subject = subjects.deployment(new_id())
    await nc.jetstream().publish(
        subject,
        b'{"type":"deploy.from_the_future"}',
        headers={"ce-type": "io.flightdeck.deploy.from_the_future", "ce-id": new_id()},
    )
    projector = Projector(store, database, streams=[streams.DEPLOYMENTS])
    await projector.catch_up()
    state = projector.state[streams.DEPLOYMENTS]
    assert state.skipped >= 1
    assert state.position == await store.stream_last_position(streams.DEPLOYMENTS)
    rows = await snapshot(database)
    (checkpoint,) = [r for r in rows["projector_checkpoints"] if r["stream"] == streams.DEPLOYMENTS]
    assert checkpoint["skipped"] == state.skipped


async def test_every_stream_projects_and_rebuild_gives_the_same_rows(
    store: EventStore, database: Database
) -> None:
    for subject, event in one_of_each(new_id()):
        await store.append(subject, [event], cause=cause)
    projector = Projector(store, database)
    await projector.catch_up()
    live = await snapshot(database)
    applied, seconds = await rebuild(store, database)
    assert applied > 0 and seconds > 0
    assert await snapshot(database) == live


async def test_two_databases_one_stream_same_rows(
    store: EventStore, database_url: str, tmp_path
) -> None:
    """A second, independent read model (another back end or file) agrees row for row."""
    other = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    first = await open_database(database_url)
    try:
        await first.reset()
        await Projector(store, first).catch_up()
        await Projector(store, other).catch_up()
        a, b = await snapshot(first), await snapshot(other)
        assert {k: len(v) for k, v in a.items()} == {k: len(v) for k, v in b.items()}
        assert [r["id"] for r in a["deployments"]] == [r["id"] for r in b["deployments"]]
    finally:
        await other.close()
        await first.close()
