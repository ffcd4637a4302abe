"""Reads from the SQL read model: every GET is answered here (CQRS), never by a fold.

Every query is scoped to a tenant in its WHERE clause, so another tenant's id
finds nothing, exactly like an unknown one.

Times come back aware, in UTC, from every backend: SQLite keeps no zone, so its
rows would otherwise reach the API as times without an offset (not RFC 3339).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from flightdeck.events import Recorded, subjects
from flightdeck.gateway.domain import panda
from flightdeck.readmodel import schema as t
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projections import deployments as projected
from flightdeck.readmodel.rows import RowSet

Row = dict[str, Any]


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _row(mapping: Any) -> Row:
    return {key: _aware(value) for key, value in mapping.items()}


def rows_of_events(events: list[Recorded[Any]]) -> tuple[Row, list[Row]]:
    """The ``deployments`` row and ``deployment_stages`` rows the projector writes for one
    deployment's events (its request first), built by the same projections, without a
    database: the answer when the read model has not caught up (ADR 0024)."""
    key = (subjects.aggregate_id(events[0].subject),)
    rows = RowSet()
    rows.preload(projected.DEPLOYMENTS, key, None)
    for recorded in events:
        projection = projected.PROJECTIONS.get(type(recorded.event))
        if projection is None:
            continue
        for table, touched in projection.touches(recorded):
            if not rows.loaded(table, touched):
                rows.preload(table, touched, None)
        projection.apply(rows, recorded)
    row = rows.get(projected.DEPLOYMENTS, key)
    assert row is not None, "a deployment's first event is its request"
    stages = [
        _row(r) for table, changed in rows.changed() if table == projected.STAGES for r in changed
    ]
    return _row(row), sorted(stages, key=lambda s: s["ordinal"])


class ReadModel:
    """The queries the gateway asks of the read model."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _one(self, query: Any) -> Row | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
        return _row(row._mapping) if row is not None else None

    async def _all(self, query: Any) -> list[Row]:
        async with self.db.connect() as conn:
            return [_row(r._mapping) for r in await conn.execute(query)]

    async def deployment(self, tenant: str, deployment_id: str) -> Row | None:
        d = t.deployments
        return await self._one(select(d).where(d.c.id == deployment_id, d.c.tenant == tenant))

    async def stages(self, deployment_id: str) -> list[Row]:
        s = t.deployment_stages
        query = select(s).where(s.c.deployment_id == deployment_id).order_by(s.c.ordinal)
        return await self._all(query)

    async def deployments(
        self,
        tenant: str,
        *,
        app: str | None,
        status: str | None,
        namespace: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        d = t.deployments
        where = [d.c.tenant == tenant]
        if app:
            where.append(d.c.app == app)
        if status:  # Panda's status (FAILED: cancelled too) or our phase
            where.append(d.c.status.in_(panda.PHASES_OF.get(status, (status,))))
        if namespace:
            where.append(d.c.namespace == namespace)
        rows = await self._all(
            select(d)
            .where(*where)
            .order_by(d.c.created_at.desc(), d.c.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self._one(select(func.count().label("n")).select_from(d).where(*where))
        return rows, int(total["n"]) if total else 0

    async def projected_upto(self, stream: str) -> int:
        """The lowest checkpoint any projector keeps for ``stream`` (0: none yet)."""
        c = t.checkpoints
        row = await self._one(select(func.min(c.c.position).label("p")).where(c.c.stream == stream))
        return int(row["p"]) if row is not None and row["p"] is not None else 0

    async def active_deployments(self, statuses: tuple[str, ...]) -> dict[str, str]:
        """The deployments in ``statuses``, each with its tenant."""
        d = t.deployments
        query = select(d.c.id, d.c.tenant).where(d.c.status.in_(statuses))
        return {r["id"]: r["tenant"] for r in await self._all(query)}

    async def known_deployments(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        d = t.deployments
        return {r["id"] for r in await self._all(select(d.c.id).where(d.c.id.in_(ids)))}

    async def connection(self, tenant: str, connection_id: str, kind: str) -> Row | None:
        c = t.connections
        query = select(c).where(c.c.id == connection_id, c.c.tenant == tenant, c.c.kind == kind)
        return await self._one(query)

    async def connections(self, tenant: str) -> list[Row]:
        c = t.connections
        return await self._all(select(c).where(c.c.tenant == tenant).order_by(c.c.created_at))

    async def token(self, token_hash: str) -> Row | None:
        k = t.api_tokens
        return await self._one(select(k).where(k.c.token_hash == token_hash))

    async def app_namespaces(self, tenant: str, app: str) -> list[str]:
        """Where ``tenant`` owns an app named ``app`` (its claims, ADR 0012)."""
        o = t.app_owners
        query = select(o.c.namespace).where(o.c.tenant == tenant, o.c.app == app)
        return sorted(r["namespace"] for r in await self._all(query))

    async def ops_action(self, tenant: str, app: str, action_id: str) -> Row | None:
        a = t.ops_actions
        query = select(a).where(a.c.id == action_id, a.c.tenant == tenant, a.c.app == app)
        return await self._one(query)

    async def checkpoints(self) -> list[Row]:
        return await self._all(select(t.checkpoints))
