"""Migration 0005 (ADR 0027) carries a v1 monitor row over: its expected status becomes a
condition, its recovery threshold the success threshold; and it goes back down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from flightdeck.readmodel.database import Database
from flightdeck.readmodel.migrate import alembic_config

pytestmark = pytest.mark.integration


def _to(revision: str, down: bool = False) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_a_v1_row_gets_a_status_condition(database: Database, database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0004", down=True))
            await conn.execute(
                text(
                    "INSERT INTO monitors (id, tenant, name, url, interval_s, timeout_s,"
                    " expected_status, body_contains, failure_threshold, recovery_threshold,"
                    " paused, deleted, state, created_at, updated_at) VALUES ('m1', 'acme',"
                    " 'home', 'http://x/', 60, 10, 204, NULL, 3, 4, false, false, 'UNKNOWN',"
                    " :t, :t)"
                ),
                {"t": datetime(2026, 12, 1, tzinfo=UTC)},
            )
            await conn.run_sync(_to("head"))
            row = (
                (
                    await conn.execute(
                        text(
                            "SELECT conditions, success_threshold, method, headers,"
                            " secret_header_names FROM monitors"
                        )
                    )
                )
                .mappings()
                .one()
            )
            assert dict(row) == {
                "conditions": '["[STATUS] == 204"]',
                "success_threshold": 4,
                "method": "GET",
                "headers": "{}",
                "secret_header_names": "[]",
            }
            await conn.run_sync(_to("0004", down=True))
            old = (await conn.execute(text("SELECT recovery_threshold FROM monitors"))).one()
            assert old == (4,)
            await conn.execute(text("DELETE FROM monitors"))
            await conn.run_sync(_to("head"))
    finally:
        await engine.dispose()
