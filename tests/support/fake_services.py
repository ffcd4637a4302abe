"""The ecr-poller and the prober as the orchestrator meets them: answers to its commands.

Each takes one command the pipeline sent (``WatchImage``, ``VerifyColour``) and
returns the events that service would append, as ``(subject, event)`` pairs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flightdeck.events import subjects
from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.base import Message
from flightdeck.events.commands import VerifyColour, WatchImage
from flightdeck.events.deployments import ColourStats
from flightdeck.events.probes import ProbeCompleted, ProbePurpose, VerificationCompleted


@dataclass
class FakeRegistry:
    """The ecr-poller's side of ``WatchImage``: an image that exists is reported at once;
    a watch of one that does not is held until :meth:`push` (or the stage deadline)."""

    images: set[tuple[str, str]] = field(default_factory=set)
    missing_repositories: set[str] = field(default_factory=set)
    waiting: list[WatchImage] = field(default_factory=list)

    def answer(self, cmd: WatchImage) -> list[tuple[str, Message]]:
        subject = subjects.image(cmd.repository, cmd.tag)
        ids = [cmd.deployment_id] if cmd.deployment_id else []
        if (cmd.repository, cmd.tag) in self.images:
            found = ImageObserved(
                repository=cmd.repository,
                tag=cmd.tag,
                digest=f"sha256:{cmd.tag}",
                pushed_at=None,
                size_bytes=1024,
                deployment_ids=ids,
            )
            return [(subject, found)]
        if cmd.repository in self.missing_repositories:
            missing = ImageMissing(
                repository=cmd.repository,
                tag=cmd.tag,
                waited_s=0.0,
                reason="the repository does not exist",
                deployment_ids=ids,
                code="REPOSITORY_NOT_FOUND",
            )
            return [(subject, missing)]
        self.waiting.append(cmd)
        return []

    def push(self, repository: str, tag: str) -> list[tuple[str, Message]]:
        self.images.add((repository, tag))
        held = [w for w in self.waiting if (w.repository, w.tag) == (repository, tag)]
        self.waiting = [w for w in self.waiting if w not in held]
        return [answer for w in held for answer in self.answer(w)]


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    INVALID_TARGET = "invalid-target"


@dataclass
class FakeProber:
    """The prober's side of ``VerifyColour``: the checks and the verdict, at once."""

    verdict: Verdict = Verdict.PASS
    asked: list[VerifyColour] = field(default_factory=list)

    def answer(self, cmd: VerifyColour) -> list[tuple[str, Message]]:
        self.asked.append(cmd)
        subject = subjects.probe(cmd.deployment_id)
        if self.verdict is Verdict.INVALID_TARGET:
            refused = VerificationCompleted(
                deployment_id=cmd.deployment_id,
                passed=False,
                new=_stats(cmd, 0, 0),
                old=None,
                reason="the health URL cannot be sent: control characters in its path",
                error_code="VERIFY_TARGET_INVALID",
            )
            return [(subject, refused)]
        ok = self.verdict is Verdict.PASS
        out: list[tuple[str, Message]] = []
        for n in range(1, cmd.checks + 1):
            check = ProbeCompleted(
                target=cmd.deployment_id,
                purpose=ProbePurpose.VERIFY,
                url=cmd.url,
                ok=ok,
                status_code=200 if ok else 503,
                latency_ms=4.0,
                error=None if ok else "503 Service Unavailable",
                deployment_id=cmd.deployment_id,
                colour=cmd.colour,
                check=n,
                host=cmd.host_header,
            )
            out.append((subject, check))
        failures = 0 if ok else cmd.checks
        verdict = VerificationCompleted(
            deployment_id=cmd.deployment_id,
            passed=ok,
            new=_stats(cmd, cmd.checks, failures),
            old=None,
            reason=None if ok else f"{failures} of {cmd.checks} health checks failed",
        )
        return [*out, (subject, verdict)]


def _stats(cmd: VerifyColour, checks: int, failures: int) -> ColourStats:
    return ColourStats(
        colour=cmd.colour,
        checks=checks,
        failures=failures,
        latency_p50_ms=4.0 if checks else None,
        latency_p99_ms=4.0 if checks else None,
        error_rate=failures / checks if checks else 0.0,
    )
