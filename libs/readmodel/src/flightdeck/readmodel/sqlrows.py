"""Loading and writing the projector's rows and checkpoints (the SQL side).

Upserts are dialect-specific (``INSERT … ON CONFLICT DO UPDATE`` on both SQLite
and PostgreSQL) and sent as one executemany per table per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flightdeck.readmodel.rows import Key, Row, RowSet
from flightdeck.readmodel.schema import checkpoints, metadata

_IN_CHUNK = 500  # keys per SELECT … IN (…), well under every driver's parameter limit


def _insert(conn: AsyncConnection, table: Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


async def load(conn: AsyncConnection, touched: Iterable[tuple[str, Key]]) -> RowSet:
    """A RowSet holding every touched row that exists (and ``None`` for those that don't)."""
    by_table: dict[str, set[Key]] = defaultdict(set)
    for table_name, key in touched:
        by_table[table_name].add(key)
    rows = RowSet()
    for name, keys in by_table.items():
        table: Table = metadata.tables[name]
        pk = list(table.primary_key.columns)
        for key in keys:
            rows.preload(name, key, None)
        wanted = sorted(keys, key=repr)
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            where = pk[0].in_([k[0] for k in chunk]) if len(pk) == 1 else tuple_(*pk).in_(chunk)
            for row in await conn.execute(select(table).where(where)):
                mapping = dict(row._mapping)
                rows.preload(name, tuple(mapping[c.name] for c in pk), mapping)
    return rows


async def flush(conn: AsyncConnection, rows: RowSet) -> None:
    """Upsert every changed row and insert every appended one."""
    for name, changed in rows.changed():
        if not changed:
            continue
        table = metadata.tables[name]
        stmt = _insert(conn, table)
        pk = [c.name for c in table.primary_key.columns]
        stmt = stmt.on_conflict_do_update(
            index_elements=pk,
            set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk},
        )
        for same_columns in _by_columns(changed):
            await conn.execute(stmt, same_columns)
    for name, appended in rows.appended():
        table = metadata.tables[name]
        pk = [c.name for c in table.primary_key.columns]
        await conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=pk), appended)


def _by_columns(rows: list[Row]) -> list[list[Row]]:
    """Rows grouped by the columns they name: an executemany compiles its statement from
    the first row, so a row naming more columns than that one would lose the rest (a
    tenant's plan, set on a row another tenant's plain row preceded in one batch)."""
    groups: dict[frozenset[str], list[Row]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


async def read_checkpoint(conn: AsyncConnection, projector: str, stream: str) -> tuple[int, int]:
    """(position, skipped) of ``projector`` on ``stream``; (0, 0) before its first event."""
    row = (
        await conn.execute(
            select(checkpoints.c.position, checkpoints.c.skipped).where(
                checkpoints.c.projector == projector, checkpoints.c.stream == stream
            )
        )
    ).first()
    return (int(row.position), int(row.skipped)) if row else (0, 0)


async def write_checkpoint(
    conn: AsyncConnection, projector: str, stream: str, position: int, skipped: int
) -> None:
    stmt = _insert(conn, checkpoints).values(
        projector=projector, stream=stream, position=position, skipped=skipped
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["projector", "stream"],
            set_={"position": stmt.excluded.position, "skipped": stmt.excluded.skipped},
        )
    )
