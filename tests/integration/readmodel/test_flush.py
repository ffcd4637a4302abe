"""Writing a batch of rows: each row keeps every column it names, on both back ends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from flightdeck.readmodel.database import Database
from flightdeck.readmodel.rows import RowSet
from flightdeck.readmodel.schema import metadata
from flightdeck.readmodel.sqlrows import flush

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, tzinfo=UTC)


async def test_rows_naming_different_columns_in_one_batch_keep_them_all(
    database: Database,
) -> None:
    """A rebuild writes many rows at once: one tenant's plain row, then another's with its
    plan, must not lose the plan (an executemany compiles from the first row's columns)."""
    plain, planned = f"plain-{uuid.uuid4().hex[:8]}", f"planned-{uuid.uuid4().hex[:8]}"
    rows = RowSet()
    rows.put("tenants", (plain,), {"tenant": plain, "created_by": "cli", "created_at": NOW})
    rows.put(
        "tenants",
        (planned,),
        {
            "tenant": planned,
            "created_by": "cli",
            "created_at": NOW,
            "plan": "max",
            "max_monitors": 1000,
            "min_interval_s": 5.0,
            "history_days": 30,
        },
    )
    async with database.begin() as conn:
        await flush(conn, rows)
    tenants = metadata.tables["tenants"]
    async with database.connect() as conn:
        got = {
            r.tenant: (r.plan, r.max_monitors)
            for r in await conn.execute(
                select(tenants).where(tenants.c.tenant.in_([plain, planned]))
            )
        }
    assert got == {plain: (None, None), planned: ("max", 1000)}
