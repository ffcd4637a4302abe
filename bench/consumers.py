"""Durable consumers: this checkout's (FastStream, ADR 0019) against a baseline's, in one run.

Both implementations run in this process, on one nats-server, in alternating
order: the baseline's ``flightdeck/runtime/consumers.py`` is loaded from the
checkout named by ``FLIGHTDECK_BENCH_BASELINE`` (e.g. ``git archive 696021d |
tar -x -C DIR``; the raw nats-py loop) under another module name, with this
checkout's vocabulary and store. Without a baseline only this checkout is
measured. Two figures each:

- **throughput**: 5,000 commands waiting on a fresh durable, handled (a
  no-op handler) and acked, per second;
- **latency**: one command appended, then the next once the handler got the
  previous one: milliseconds from the append's start to the handler, 300 times.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.harness import console, private_nats, report
from flightdeck.events import Cause, Codec, Recorded, declare, new_id, streams, subjects
from flightdeck.events.commands import CancelDeployment
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime import consumers as current
from flightdeck.runtime.connection import connect

BASELINE = "FLIGHTDECK_BENCH_BASELINE"
CAUSE = Cause.root("service:bench")
WAITING = 5_000
ONE_BY_ONE = 300
ROUNDS = 3


def _baseline(checkout: Path) -> ModuleType:
    path = checkout / "libs/runtime/src/flightdeck/runtime/consumers.py"
    spec = importlib.util.spec_from_file_location("bench_baseline_consumers", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{BASELINE}={checkout}: no {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _command(n: int) -> CancelDeployment:
    return CancelDeployment(deployment_id=f"d{n}", reason="bench")


async def _consuming(
    impl: ModuleType, store: EventStore, nc: Any, subject: str, handler: Any
) -> tuple[asyncio.Task[None], Any]:
    service = subject.split(".")[2]
    spec = impl.ConsumerSpec(
        durable=f"{service}-commands",
        stream=streams.COMMANDS,
        subjects=(subject,),
        handler=handler,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(impl.Consumers(store, service, nc).run([spec], ready))
    await ready.wait()
    return task, spec


async def _throughput(impl: ModuleType, store: EventStore, nc: Any) -> float:
    subject = subjects.command(f"bench{new_id()[:8]}", "cancel")
    for start in range(0, WAITING, 100):
        await store.append(subject, [_command(n) for n in range(start, start + 100)], cause=CAUSE)
    done = asyncio.Event()
    handled = 0

    async def handler(_: Recorded[Any]) -> None:
        nonlocal handled
        handled += 1
        if handled == WAITING:
            done.set()

    started = time.perf_counter()
    task, _ = await _consuming(impl, store, nc, subject, handler)
    try:
        await asyncio.wait_for(done.wait(), 120)
        return WAITING / (time.perf_counter() - started)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _latency(impl: ModuleType, store: EventStore, nc: Any) -> list[float]:
    subject = subjects.command(f"bench{new_id()[:8]}", "cancel")
    got: asyncio.Queue[float] = asyncio.Queue()

    async def handler(_: Recorded[Any]) -> None:
        got.put_nowait(time.perf_counter())

    task, _ = await _consuming(impl, store, nc, subject, handler)
    try:
        found = []
        for n in range(ONE_BY_ONE):
            sent = time.perf_counter()
            await store.append(subject, [_command(n)], cause=CAUSE)
            found.append((await asyncio.wait_for(got.get(), 10) - sent) * 1000)
        return found
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run() -> None:
    checkout = os.environ.get(BASELINE)
    impls = [("this checkout (FastStream)", current)]
    if checkout:
        impls.append((f"baseline {checkout} (raw nats-py)", _baseline(Path(checkout))))
    rates: dict[str, list[float]] = {name: [] for name, _ in impls}
    latencies: dict[str, list[float]] = {name: [] for name, _ in impls}
    async with private_nats() as server:
        nc = await connect(server.url, "bench-consumers")
        store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
        await store.ensure_streams(declare())
        for n in range(ROUNDS):
            for name, impl in impls if n % 2 == 0 else impls[::-1]:
                with console.status(f"consumers: {name}, round {n + 1}…"):
                    rates[name].append(await _throughput(impl, store, nc))
                    latencies[name].extend(await _latency(impl, store, nc))
        await nc.close()
    rows = []
    for name, _ in impls:
        ordered = sorted(latencies[name])
        rows += [
            (
                f"{name}: {WAITING:,} waiting commands handled, /s (median of {ROUNDS})",
                f"{statistics.median(rates[name]):,.0f}",
            ),
            (
                f"{name}: append → handler, ms ({len(ordered)} one by one)",
                f"p50 {statistics.median(ordered):.2f} / p99 {ordered[int(0.99 * len(ordered))]:.2f}",
            ),
        ]
    if checkout:
        (this, _), (base, _) = impls
        rows += [
            (
                "throughput: this / baseline",
                f"{statistics.median(rates[this]) / statistics.median(rates[base]):.2f}",
            ),
            (
                "latency p50: this / baseline",
                f"{statistics.median(latencies[this]) / statistics.median(latencies[base]):.2f}",
            ),
        ]
    report("Durable consumers (one process, one nats-server, 2 cores)", rows)
