"""Event-store appends (with the concurrency check) against raw nats-py publishes.

Both sides do the same work on the same server in the same run: ``aggregates``
aggregates appended concurrently, each one event at a time with
``Nats-Expected-Last-Subject-Sequence``, as a busy orchestrator would. Then the
read rate of one 10,000-event aggregate.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import nats
from nats.aio.client import Client as NATS
from nats.js.api import Header

from bench.harness import console, private_nats, report
from flightdeck.events import Cause, Codec, declare, new_id, subjects
from flightdeck.events.deployments import Stage, StageProgressed
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect

CAUSE = Cause.root("service:bench")


def _event(n: int) -> StageProgressed:
    return StageProgressed(stage=Stage.ROLLOUT, message="pod ready", detail={"n": n})


async def _store_appends(store: EventStore, aggregates: int, per_aggregate: int) -> float:
    run = new_id()[:8]

    async def one(a: int) -> None:
        subject = subjects.deployment(f"bench-{run}-{a}")
        position = 0
        for n in range(per_aggregate):
            result = await store.append(subject, [_event(n)], cause=CAUSE, expected=position)
            position = result.last_position

    started = time.perf_counter()
    await asyncio.gather(*(one(a) for a in range(aggregates)))
    return aggregates * per_aggregate / (time.perf_counter() - started)


async def _raw_publishes(nc: NATS, codec: Codec, aggregates: int, per_aggregate: int) -> float:
    js = nc.jetstream()
    run = new_id()[:8]
    payload = codec.encode("fd.evt.deploy.x", _event(1), CAUSE).payload

    async def one(a: int) -> None:
        subject = subjects.deployment(f"raw-{run}-{a}")
        position = 0
        for _ in range(per_aggregate):
            ack = await js.publish(
                subject,
                payload,
                headers={
                    "Nats-Msg-Id": new_id(),
                    Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(position),
                },
            )
            position = ack.seq

    started = time.perf_counter()
    await asyncio.gather(*(one(a) for a in range(aggregates)))
    return aggregates * per_aggregate / (time.perf_counter() - started)


async def _read_rate(store: EventStore, size: int) -> tuple[float, float]:
    subject = subjects.deployment(f"bench-read-{new_id()[:8]}")
    position = 0
    for start in range(0, size, 500):
        batch = [_event(n) for n in range(start, min(size, start + 500))]
        position = (
            await store.append(subject, batch, cause=CAUSE, expected=position)
        ).last_position
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        events = await store.read(subject)
        timings.append(time.perf_counter() - started)
        assert len(events) == size
    best = min(timings)
    return size / best, best


async def run(events: int = 20_000, aggregates: int = 500, rounds: int = 3) -> None:
    per_aggregate = max(1, events // aggregates)
    async with private_nats() as server:
        nc = await connect(server.url, "bench")
        stock = await nats.connect(server.url, name="bench-raw")  # unmodified nats-py
        codec = Codec("/flightdeck/bench")
        store = JetStreamEventStore(nc, codec)
        await store.ensure_streams(declare())
        await _store_appends(store, 50, 10)  # warm-up
        await _raw_publishes(stock, codec, 50, 10)
        store_rates, raw_rates = [], []
        with console.status("event store vs raw publish…"):
            for _ in range(rounds):  # interleaved, so drift hits both sides alike
                raw_rates.append(await _raw_publishes(stock, codec, aggregates, per_aggregate))
                store_rates.append(await _store_appends(store, aggregates, per_aggregate))
            read_rate, read_s = await _read_rate(store, 10_000)
        await nc.close()
        await stock.close()
    store_rate, raw_rate = statistics.median(store_rates), statistics.median(raw_rates)
    n = aggregates * per_aggregate
    report(
        f"Event store appends: {n:,} events over {aggregates} aggregates, concurrently, "
        f"each append checked (median of {rounds})",
        [
            ("event store appends/s (OCC, CloudEvents headers)", f"{store_rate:,.0f}"),
            (
                "raw nats-py js.publish/s (stock client, same OCC header, same concurrency)",
                f"{raw_rate:,.0f}",
            ),
            ("ratio event store / raw", f"{store_rate / raw_rate:.2f}x  (target ≥ 0.80x)"),
            ("target ≥ 15,000 appends/s", "met" if store_rate >= 15_000 else "NOT met"),
            (
                "read one 10,000-event aggregate",
                f"{read_s * 1000:.0f} ms ({read_rate:,.0f} events/s)",
            ),
        ],
    )
    console.print(f"ratio {store_rate / raw_rate:.2f}")
