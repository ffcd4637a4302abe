"""The Alembic migrations build exactly the tables ``schema.py`` declares, on each back end."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flightdeck.readmodel.database import Database
from flightdeck.readmodel.schema import metadata

pytestmark = pytest.mark.integration


async def test_migrations_match_the_declared_schema(database: Database) -> None:
    async with database.connect() as conn:
        differences = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert differences == []
