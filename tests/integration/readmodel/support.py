"""What the read-model tests share: snapshots of every table, and a caught-up check."""

from __future__ import annotations

from typing import Any

from flightdeck.eventstore import EventStore
from flightdeck.readmodel.database import Database, table_rows
from flightdeck.readmodel.projector import PROJECTED, Projector
from flightdeck.readmodel.schema import PROJECTED as TABLES
from flightdeck.readmodel.schema import checkpoints


async def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every projected table's rows, plus the checkpoints, in key order."""
    async with db.connect() as conn:
        return {t.name: await table_rows(conn, t.name) for t in (*TABLES, checkpoints)}


async def caught_up(projector: Projector, store: EventStore) -> bool:
    for stream in PROJECTED:
        state = projector.state.get(stream)
        if state is None or state.position < await store.stream_last_position(stream):
            return False
    return True
