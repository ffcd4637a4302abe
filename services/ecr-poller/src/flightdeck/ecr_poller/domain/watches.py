"""Who waits for which image, grouped so that each repository is polled once per interval.

A watch is one ``WatchImage`` request: ``repository:tag`` wanted by a
deployment until a deadline. Watches of one repository (with the same
credentials) form a group; a group is polled as one request, however many
watches wait in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Watch:
    key: str
    """One per (repository, tag, deployment): a repeated request joins the first."""
    repository: str
    tag: str
    deadline: datetime
    started_at: datetime
    deployment_id: str | None = None
    connection_id: str | None = None

    @property
    def group(self) -> tuple[str | None, str]:
        return (self.connection_id, self.repository)


def watch_key(repository: str, tag: str, deployment_id: str | None, fallback: str) -> str:
    return f"{repository}:{tag}:{deployment_id or fallback}"


@dataclass
class Book:
    """Every open watch, by key."""

    watches: dict[str, Watch] = field(default_factory=dict)

    def add(self, watch: Watch) -> bool:
        """Keep ``watch``; ``False`` if an equal one is already waiting."""
        if watch.key in self.watches:
            return False
        self.watches[watch.key] = watch
        return True

    def group(self, group: tuple[str | None, str]) -> list[Watch]:
        return [w for w in self.watches.values() if w.group == group]

    def tags(self, group: tuple[str | None, str]) -> set[str]:
        return {w.tag for w in self.group(group)}

    def found(self, group: tuple[str | None, str], tag: str) -> list[Watch]:
        """The watches a tag that now exists answers; they are removed."""
        done = [w for w in self.group(group) if w.tag == tag]
        for w in done:
            del self.watches[w.key]
        return done

    def expired(self, group: tuple[str | None, str], now: datetime) -> list[Watch]:
        """The watches whose deadline has passed; they are removed."""
        done = [w for w in self.group(group) if w.deadline <= now]
        for w in done:
            del self.watches[w.key]
        return done

    def given_up(self, group: tuple[str | None, str], now: datetime, grace_s: float) -> list[Watch]:
        """The watches that waited ``grace_s`` for a repository that does not exist;
        they are removed."""
        done = [w for w in self.group(group) if (now - w.started_at).total_seconds() >= grace_s]
        for w in done:
            del self.watches[w.key]
        return done

    def next_deadline(self, group: tuple[str | None, str]) -> datetime | None:
        return min((w.deadline for w in self.group(group)), default=None)


def sleep_for(delay_s: float, now: datetime, deadline: datetime | None) -> float:
    """Wait ``delay_s`` for the next poll, but wake up for the earliest deadline."""
    if deadline is not None:
        return min(delay_s, max(0.0, (deadline - now).total_seconds()))
    return delay_s
