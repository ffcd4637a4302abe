"""The relay: which containers this replica follows, kept in step with the cluster.

It learns pods from the watcher's events (a snapshot, then live changes) and
follow rules from their KV bucket, and from those alone decides which
containers are wanted (``domain.selection``). Each wanted container is offered
to one replica (``domain.sharing``); that replica takes its lease and runs a
:class:`ContainerFollower` while it renews it. A deleted pod's followers read
their stream to its end first; containers that should move to a newly joined
replica are handed over with their cursor saved, so nothing is read twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from flightdeck.events import Recorded
from flightdeck.events.cluster import PodObserved
from flightdeck.log_relay.domain.seam import Seam
from flightdeck.log_relay.domain.selection import (
    ContainerKey,
    FollowRule,
    FollowScope,
    Target,
    targets,
)
from flightdeck.log_relay.domain.sharing import preferred_owner
from flightdeck.log_relay.service_layer.following import ContainerFollower, FollowStats
from flightdeck.log_relay.service_layer.ports import (
    ContainerLeases,
    CursorStore,
    Membership,
    PodSource,
    RuleBook,
)

log = structlog.get_logger(__name__)

PodKey = tuple[str, str]
Dispatch = Callable[["Relay", Recorded[Any], bool], None]


@dataclass(frozen=True)
class RelayTiming:
    lease_ttl_s: float = 15.0
    max_follows: int = 2000
    stats_interval_s: float = 30.0
    shutdown_s: float = 5.0

    @property
    def tick_s(self) -> float:
        return self.lease_ttl_s / 3


@dataclass
class Running:
    follower: ContainerFollower
    task: asyncio.Task[None]
    renewed_at: float
    leaving: str | None = None  # "finish" (pod gone), "unwanted", "handoff"


class Relay:
    """One replica's share of the log following.

    Args:
        scope: the relay's default following (namespaces, follow-all, tail).
        feed, leases, members, cursors, rules: the adapters.
        make_follower: builds the follower of one target.
        dispatch: routes a pod event to :meth:`pod_observed` / :meth:`pod_deleted`.
        timing: lease TTL, limits, report interval.
        stats: the followers' shared counters.
    """

    def __init__(
        self,
        *,
        scope: FollowScope,
        feed: PodSource,
        leases: ContainerLeases,
        members: Membership,
        cursors: CursorStore,
        rules: RuleBook,
        make_follower: Callable[[Target], ContainerFollower],
        dispatch: Dispatch,
        timing: RelayTiming,
        stats: FollowStats,
    ) -> None:
        self.scope = scope
        self._feed, self._leases, self._members = feed, leases, members
        self._cursors, self._rules_store = cursors, rules
        self._make_follower, self._dispatch = make_follower, dispatch
        self.timing, self.stats = timing, stats
        self._pods: dict[PodKey, tuple[PodObserved, bool]] = {}
        self._rules: dict[tuple[str, str], FollowRule] = {}
        self._wanted: dict[ContainerKey, Target] = {}
        self._by_pod: dict[PodKey, set[ContainerKey]] = {}
        self._gone: set[ContainerKey] = set()
        self._followers: dict[ContainerKey, Running] = {}
        self._retry_at: dict[ContainerKey, float] = {}
        self._dirty = asyncio.Event()
        self.ready = asyncio.Event()

    # ------------------------------------------------------------ what is known

    def pod_observed(self, pod: PodObserved, live: bool) -> None:
        """A pod's latest observation; ``live``: seen after the start-up snapshot."""
        key = (pod.namespace, pod.name)
        known = self._pods.get(key)
        if known is not None and known[0].uid != pod.uid:
            self.pod_deleted(pod.namespace, pod.name)  # same name, new pod
            known = None
        seen_live = known[1] if known is not None else live
        self._pods[key] = (pod, seen_live)
        self._refresh(key)

    def pod_deleted(self, namespace: str, name: str) -> None:
        key = (namespace, name)
        self._pods.pop(key, None)
        self._gone.update(self._by_pod.get(key, set()))
        self._refresh(key)

    def rule_changed(self, key: tuple[str, str], rule: FollowRule | None) -> None:
        if rule is None:
            self._rules.pop(key, None)
        else:
            self._rules[key] = rule
        for pod_key in list(self._pods):
            self._refresh(pod_key)

    def _refresh(self, pod_key: PodKey) -> None:
        """Recompute the wanted containers of one pod and tell their followers."""
        for old in self._by_pod.pop(pod_key, set()):
            self._wanted.pop(old, None)
        known = self._pods.get(pod_key)
        if known is not None:
            found = targets(known[0], self.scope, self._rules, seen_live=known[1])
            self._by_pod[pod_key] = {t.key for t in found}
            for target in found:
                self._wanted[target.key] = target
                self._gone.discard(target.key)
                if (running := self._followers.get(target.key)) is not None:
                    running.follower.observe(target)
        self._dirty.set()

    # ------------------------------------------------------------------- run

    async def run(self) -> None:
        """Join, load rules and pods, then follow until cancelled."""
        await self._members.beat(full=False)
        members_ready, rules_ready = asyncio.Event(), asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._members.watch(members_ready), name="members")
                group.create_task(self._rules_store.watch(self.rule_changed, rules_ready))
                await members_ready.wait()
                await rules_ready.wait()
                snapshot, after = await self._feed.snapshot()
                for recorded in snapshot:
                    self._dispatch(self, recorded, False)
                group.create_task(self._follow_pods(after, Seam(snapshot)), name="pods")
                group.create_task(self._supervise(), name="supervise")
                group.create_task(self._report(), name="report")
                log.info("relay started", pods=len(self._pods), after=after)
                self.ready.set()
        finally:
            await self.shutdown()

    async def _follow_pods(self, after: int, seam: Seam) -> None:
        async with self._feed.changes(after) as changes:
            async for recorded in changes:
                if seam.new(recorded):
                    self._dispatch(self, recorded, True)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = 0.0
        while True:
            now = loop.time()
            if now >= next_tick:
                next_tick = now + self.timing.tick_s
                await self._members.beat(full=len(self._followers) >= self.timing.max_follows)
                await self._renew()
                self._hand_over()
            self._dirty.clear()
            await self._reconcile()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), max(0.0, next_tick - loop.time()))

    async def _reconcile(self) -> None:
        for key, running in list(self._followers.items()):
            if running.task.done():
                await self._retire(key, running)
            elif running.leaving is None and key in self._gone:
                running.leaving = "finish"
                running.follower.finish()
            elif running.leaving is None and key not in self._wanted:
                running.leaving = "unwanted"
                running.follower.stop()
        self._gone &= self._followers.keys()  # nothing to finish for containers not followed here
        members = self._members.alive()
        me, now = self._members.me, time.monotonic()
        for key, target in list(self._wanted.items()):
            if key in self._followers or not target.has_log:
                continue
            if len(self._followers) >= self.timing.max_follows:
                break
            if self._retry_at.get(key, 0.0) > now or preferred_owner(key, members) != me:
                continue
            if await self._leases.acquire(key):
                self._start(self._wanted.get(key, target))

    def _start(self, target: Target) -> None:
        follower = self._make_follower(target)
        task = asyncio.create_task(follower.run(), name=f"follow {target.key}")
        task.add_done_callback(lambda _: self._dirty.set())
        self._followers[target.key] = Running(follower, task, time.monotonic())
        log.info("following", container=str(target.key), app=target.app)

    async def _retire(self, key: ContainerKey, running: Running) -> None:
        """A follower ended: give its lease back (and forget a deleted pod's cursor)."""
        self._followers.pop(key, None)
        failure = None if running.task.cancelled() else running.task.exception()
        if failure is not None:
            log.error("follower failed", container=str(key), exc_info=failure)
            self._retry_at[key] = time.monotonic() + self.timing.tick_s
        if running.leaving == "finish":
            await self._cursors.delete(key)
            self._gone.discard(key)
        elif running.leaving == "handoff":
            self._retry_at[key] = time.monotonic() + 3 * self.timing.tick_s
        await self._leases.release(key)
        log.info("stopped following", container=str(key), why=running.leaving or "ended")

    async def _renew(self) -> None:
        """Renew every held lease; abandon (without publishing) the containers lost."""
        held = [(k, r) for k, r in self._followers.items() if not r.task.done()]
        answers = await asyncio.gather(*(self._leases.renew(k) for k, _ in held))
        now = time.monotonic()
        for (key, running), renewed in zip(held, answers, strict=True):
            if renewed:
                running.renewed_at = now
            elif renewed is False or now - running.renewed_at > self.timing.lease_ttl_s * 2 / 3:
                log.warning("lease lost, abandoning container", container=str(key))
                running.task.cancel()
                self._leases.forget(key)
                self._followers.pop(key, None)

    def _hand_over(self) -> None:
        """Give containers to the replica that should have them, once it has settled in."""
        me = self._members.me
        settled = {*self._members.alive(settled_s=2 * self.timing.tick_s), me}
        for key, running in self._followers.items():
            if running.leaving is None and preferred_owner(key, settled) != me:
                running.leaving = "handoff"
                running.follower.stop()

    async def _report(self) -> None:
        last, last_at = 0, time.monotonic()
        while True:
            await asyncio.sleep(self.timing.stats_interval_s)
            now, s = time.monotonic(), self.stats
            log.info(
                "relay stats",
                following=len(self._followers),
                backlog=sum(r.follower.backlog for r in self._followers.values()),
                lines_per_s=round((s.lines_published - last) / max(now - last_at, 1e-9), 1),
                lines_read=s.lines_read,
                lines_published=s.lines_published,
                events=s.events_published,
                duplicates=s.duplicates,
                dropped=s.lines_dropped,
                gaps=s.gaps,
                stalls=s.stalls,
            )
            last, last_at = s.lines_published, now

    async def shutdown(self) -> None:
        """Publish what was read, save cursors, give the leases back (bounded in time)."""
        running = list(self._followers.items())
        for _, r in running:
            r.follower.stop()
        tasks = [r.task for _, r in running]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.timing.shutdown_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for key, _ in running:
            await self._leases.release(key)
        self._followers.clear()
        await self._members.leave()
