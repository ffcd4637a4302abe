"""The read model's database: SQLite (embedded default) or PostgreSQL (production).

Chosen by URL (``FLIGHTDECK_DATABASE_URL``): ``sqlite+aiosqlite:///path.db`` or
``postgresql+asyncpg://user@host/db``. Opening it migrates the schema.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from flightdeck.readmodel import migrate
from flightdeck.readmodel.schema import metadata


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the gateway's GETs) run beside the projector's writes;
    # NORMAL sync is durable across process crashes, and the read model can
    # always be rebuilt from the streams anyway.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An async engine on the read model, with its dialect's quirks handled."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def connect(self) -> Any:
        """``async with db.connect() as conn`` — a connection for reads."""
        return self.engine.connect()

    def begin(self) -> Any:
        """``async with db.begin() as conn`` — a connection in a transaction."""
        return self.engine.begin()

    async def migrate(self) -> None:
        await migrate.upgrade(self.engine)

    async def reset(self) -> None:
        """Drop every table (the read model is disposable) and migrate afresh."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await self.migrate()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _private_sqlite_file(path: Path) -> None:
    """Create the SQLite file owner-only before SQLite opens it (SQLite would make it
    0644, and its journal and WAL take the database file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # mkdir's mode passes through the umask
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:  # made by an older version
            os.chmod(path, mode & 0o600)


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``url`` and, unless told otherwise, bring its schema up to date."""
    db = Database(url)
    if db.dialect == "sqlite" and url.startswith("sqlite+aiosqlite:///"):
        name = url.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
        if name and name != ":memory:":
            _private_sqlite_file(Path(name))
    if migrate:
        await db.migrate()
    return db


async def table_rows(conn: AsyncConnection, table_name: str) -> list[dict[str, Any]]:
    """Every row of a table, ordered by its primary key (for comparisons)."""
    table = metadata.tables[table_name]
    result = await conn.execute(table.select().order_by(*table.primary_key.columns))
    return [dict(row._mapping) for row in result]
