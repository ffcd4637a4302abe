"""Projection rebuild throughput: 100,000 mixed events into SQLite and PostgreSQL.

The mix is what a busy installation stores: deployment lifecycles, pod
observations (the bulk), probe results, monitors and tokens. Each back end is
rebuilt from sequence 1 in the same run, on the same streams.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import console, private_nats, report
from flightdeck.events import Cause, Codec, declare, subjects
from flightdeck.events.cluster import ContainerPhase, ContainerState, PodObserved
from flightdeck.events.deployments import Stage, StageProgressed, StageStarted, StageSucceeded
from flightdeck.events.probes import ProbeCompleted, ProbePurpose
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.readmodel.database import open_database
from flightdeck.readmodel.projector import rebuild
from flightdeck.runtime.connection import connect
from flightdeck.runtime.processes import port_open

CAUSE = Cause.root("service:bench")
PG_ENV = "FLIGHTDECK_BENCH_POSTGRES_URL"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _fill(store: EventStore, total: int) -> int:
    """Append ~``total`` events: 40 % deployments, 45 % pods, 15 % probes."""
    from datetime import UTC, datetime

    from flightdeck.events.commands import StartDeployment, deployment_requested

    now = datetime.now(UTC)

    async def deployment(d: int, size: int) -> int:
        dep = f"bench-{d}"
        events: list = [
            deployment_requested(
                StartDeployment(
                    deployment_id=dep,
                    tenant="acme",
                    app=f"app{d % 50}",
                    namespace="default",
                    repository=f"app{d % 50}",
                    tag=f"v{d}",
                )
            )
        ]
        for stage in list(Stage)[:5]:
            events.append(StageStarted(stage=stage, deadline=now))
            events += [
                StageProgressed(stage=stage, message=f"step {i}") for i in range((size - 11) // 5)
            ]
            events.append(StageSucceeded(stage=stage, duration_ms=1000))
        await store.append(subjects.deployment(dep), events[:1000], cause=CAUSE)
        return len(events[:1000])

    async def pods(p: int, size: int) -> int:
        name = f"app{p % 50}-blue-{p}"
        events = [
            PodObserved(
                namespace="default",
                name=name,
                uid=f"u{p}",
                labels={"app": f"app{p % 50}", "colour": "blue"},
                owner=None,
                phase="Running",
                ready=i % 2 == 0,
                node="node-1",
                pod_ip="10.0.0.1",
                host_ip="192.168.0.1",
                resource_version=str(i),
                containers=[
                    ContainerState(
                        name="app",
                        image="x",
                        phase=ContainerPhase.RUNNING,
                        ready=True,
                        restart_count=i,
                    )
                ],
            )
            for i in range(size)
        ]
        await store.append(subjects.cluster_object("default", "Pod", name), events, cause=CAUSE)
        return size

    async def probes(t: int, size: int) -> int:
        events = [
            ProbeCompleted(
                target=f"m{t}",
                purpose=ProbePurpose.MONITOR,
                url="http://x/health",
                ok=True,
                status_code=200,
                latency_ms=3.0 + i % 7,
            )
            for i in range(size)
        ]
        await store.append(subjects.probe(f"m{t}"), events, cause=CAUSE)
        return size

    jobs = (
        [deployment(d, 200) for d in range(total * 40 // 100 // 200)]
        + [pods(p, 250) for p in range(total * 45 // 100 // 250)]
        + [probes(t, 250) for t in range(total * 15 // 100 // 250)]
    )
    written = 0
    for start in range(0, len(jobs), 16):  # the server holds 50 open batches per stream
        written += sum(await asyncio.gather(*jobs[start : start + 16]))
    return written


async def _postgres_url() -> str | None:
    base = os.environ.get(PG_ENV, PG_DEFAULT)
    url = make_url(base)
    if not port_open(url.host or "127.0.0.1", url.port or 5432):
        return None
    return base


async def _rebuild_rate(store: EventStore, url: str) -> tuple[int, float]:
    database = await open_database(url)
    try:
        await rebuild(store, database)  # warm-up (and schema)
        return await rebuild(store, database)
    finally:
        await database.close()


async def run(total: int = 100_000) -> None:
    rows: list[tuple[str, str]] = []
    async with private_nats() as server:
        nc = await connect(server.url, "bench")
        store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
        await store.ensure_streams(declare())
        with console.status(f"appending {total:,} mixed events…"):
            written = await _fill(store, total)
        rows.append(("events in the streams", f"{written:,}"))
        with tempfile.TemporaryDirectory() as tmp, console.status("rebuilding into SQLite…"):
            applied, seconds = await _rebuild_rate(
                store, f"sqlite+aiosqlite:///{Path(tmp) / 'rm.db'}"
            )
        sqlite_rate = applied / seconds
        rows.append(("SQLite rebuild", f"{seconds:.2f} s, {sqlite_rate:,.0f} events/s"))
        rows.append(("SQLite vs target 50,000 events/s", f"{sqlite_rate / 50_000:.2f}x"))
        base = await _postgres_url()
        if base is None:
            rows.append(("PostgreSQL rebuild", "skipped: no server reachable"))
        else:
            name = f"fd_bench_{uuid.uuid4().hex[:8]}"
            admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(base).set(database=name).render_as_string(hide_password=False)
                with console.status("rebuilding into PostgreSQL…"):
                    applied, seconds = await _rebuild_rate(store, url)
                rows.append(
                    ("PostgreSQL rebuild", f"{seconds:.2f} s, {applied / seconds:,.0f} events/s")
                )
                rows.append(("PostgreSQL / SQLite ratio", f"{applied / seconds / sqlite_rate:.2f}"))
            finally:
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await admin.dispose()
        await nc.close()
    report(f"Read-model rebuild from sequence 1 ({total:,} mixed events)", rows)
