"""Holds image watches until they are answered, polling each repository once per interval.

A ``WatchImage`` handler calls :meth:`Poller.watch` and waits: its message
stays un-acked (kept alive) until the image is observed or the deadline
passes. If this process dies, JetStream hands the message to another replica,
which starts the watch again; nothing is lost and nothing is kept anywhere
but in the message itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from flightdeck.ecr_poller.domain.images import Image, RegistryUnavailable, RepositoryMissing
from flightdeck.ecr_poller.domain.watches import Book, Watch, sleep_for, watch_key
from flightdeck.ecr_poller.service_layer.ports import ImageLookup
from flightdeck.events import Cause, Recorded, subjects
from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.commands import WatchImage
from flightdeck.eventstore import EventStore
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)

ACTOR = "service:ecr-poller"
REPOSITORY_NOT_FOUND = "REPOSITORY_NOT_FOUND"
Group = tuple[str | None, str]


class Poller:
    def __init__(
        self,
        store: EventStore,
        ecr: ImageLookup,
        clock: Callable[[], datetime],
        *,
        interval_s: float = 5.0,
        backoff_max_s: float = 60.0,
        missing_repository_grace_s: float = 60.0,
    ) -> None:
        self._store, self._ecr, self._clock = store, ecr, clock
        self._pace = retries.poll(interval_s, backoff_max_s)
        self._grace = missing_repository_grace_s
        self._book = Book()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._causes: dict[str, Cause] = {}
        self._loops: dict[Group, asyncio.Task[None]] = {}
        self.polls = 0

    async def watch(self, recorded: Recorded[WatchImage]) -> None:
        """Wait until ``repository:tag`` is observed or its deadline passes (both published)."""
        cmd = recorded.event
        key = watch_key(cmd.repository, cmd.tag, cmd.deployment_id, recorded.id)
        watch = Watch(
            key=key,
            repository=cmd.repository,
            tag=cmd.tag,
            deadline=cmd.deadline,
            started_at=self._clock(),
            deployment_id=cmd.deployment_id,
            connection_id=cmd.aws_connection_id,
        )
        if self._book.add(watch):
            self._waiting[key] = asyncio.get_running_loop().create_future()
            self._causes[key] = Cause(
                actor=ACTOR,
                correlation_id=recorded.correlation_id or recorded.id,
                causation_id=recorded.id,
            )
        self._ensure_loop(watch.group)
        await asyncio.shield(self._waiting[key])

    def _ensure_loop(self, group: Group) -> None:
        """The first watch of a repository polls at once; later ones join its next poll."""
        if group not in self._loops or self._loops[group].done():
            self._loops[group] = asyncio.create_task(self._poll_group(group))

    async def _poll_group(self, group: Group) -> None:
        """Poll one repository every interval until no watch waits on it.

        A deadline falling between two polls wakes the loop for one last poll, so a
        watch never gives up on an image pushed just before its deadline. A
        repository that does not exist is a known cause: its watches end with
        ``REPOSITORY_NOT_FOUND`` once they waited the grace (a registry may create
        the repository on the first push), not at their deadline.
        """
        failures = 0
        while self._book.group(group):
            failures = await self._poll_once(group, failures)
            now = self._clock()
            missing = failures < 0
            await self._expire(self._book.expired(group, now), now, missing)
            if missing:
                await self._expire(self._book.given_up(group, now, self._grace), now, True)
            if not self._book.group(group):
                break
            delay = self._pace.delay(max(failures, 0) + 1)  # jittered; grows while failing
            await asyncio.sleep(sleep_for(delay, now, self._book.next_deadline(group)))
        self._loops.pop(group, None)

    async def _poll_once(self, group: Group, failures: int) -> int:
        """One poll; returns the consecutive failures (-1: the repository is missing)."""
        connection, repository = group
        self.polls += 1
        try:
            found = await self._ecr.images(repository, self._book.tags(group), connection)
        except RepositoryMissing:
            return -1
        except RegistryUnavailable as exc:
            log.warning("ecr poll failed", repository=repository, error=str(exc))
            return max(failures, 0) + 1
        for tag, image in found.items():
            await self._observed(image, repository, self._book.found(group, tag))
        return 0

    async def _observed(self, image: Image, repository: str, watches: list[Watch]) -> None:
        event = ImageObserved(
            repository=repository,
            tag=image.tag,
            digest=image.digest,
            pushed_at=image.pushed_at,
            size_bytes=image.size_bytes,
            registry_id=image.registry_id,
            deployment_ids=sorted({w.deployment_id for w in watches if w.deployment_id}),
        )
        await self._publish(repository, image.tag, event, watches)

    async def _expire(self, watches: list[Watch], now: datetime, missing: bool) -> None:
        """Answer ``watches`` with ``ImageMissing``: the repository is missing, or the
        tag did not appear before the deadline."""
        for watch in watches:
            waited = (now - watch.started_at).total_seconds()
            event = ImageMissing(
                repository=watch.repository,
                tag=watch.tag,
                waited_s=round(waited, 3),
                reason=(
                    f"repository {watch.repository} not found"
                    if missing
                    else "the tag did not appear before the deadline"
                ),
                deployment_ids=[watch.deployment_id] if watch.deployment_id else [],
                code=REPOSITORY_NOT_FOUND if missing else None,
            )
            await self._publish(watch.repository, watch.tag, event, [watch])

    async def _publish(self, repository: str, tag: str, event: Any, watches: list[Watch]) -> None:
        cause = self._causes.get(watches[0].key) or Cause.root(ACTOR)
        await self._store.append(subjects.image(repository, tag), [event], cause=cause)
        for watch in watches:
            self._causes.pop(watch.key, None)
            future = self._waiting.pop(watch.key, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def close(self) -> None:
        for task in self._loops.values():
            task.cancel()
        await asyncio.gather(*self._loops.values(), return_exceptions=True)
