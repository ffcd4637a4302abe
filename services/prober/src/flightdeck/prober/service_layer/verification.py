"""Verify a new colour: N checks of it, N of the old colour beside it, one verdict.

Every check is published as it finishes (``ProbeCompleted``), so a deployment's
timeline shows them live; the verdict (``VerificationCompleted``) carries both
colours' figures. The same request arriving twice (a redelivery, a resumed
orchestrator) joins the run in progress instead of starting another. A target
that cannot be sent at all (a CR/LF health path) is refused at once with a code.
"""

from __future__ import annotations

import asyncio

from flightdeck.events import Cause, Recorded, subjects
from flightdeck.events.commands import VerifyColour
from flightdeck.events.deployments import Colour, ColourStats
from flightdeck.events.probes import ProbeCompleted, ProbePurpose, VerificationCompleted
from flightdeck.eventstore import EventStore
from flightdeck.prober.domain.checks import REFUSED, Result, Target, refusal
from flightdeck.prober.domain.stats import colour_stats, verdict
from flightdeck.prober.service_layer.ports import Checker

ACTOR = "service:prober"


class Verifier:
    def __init__(self, store: EventStore, http: Checker, interval_scale: float = 1.0) -> None:
        self._store, self._http, self._scale = store, http, interval_scale
        self._running: dict[tuple[str, Colour], asyncio.Task[None]] = {}

    async def verify(self, recorded: Recorded[VerifyColour]) -> None:
        cmd = recorded.event
        key = (cmd.deployment_id, cmd.colour)
        if key not in self._running or self._running[key].done():
            self._running[key] = asyncio.create_task(self._run(recorded))
            self._running[key].add_done_callback(lambda _: self._running.pop(key, None))
        await asyncio.shield(self._running[key])

    async def _run(self, recorded: Recorded[VerifyColour]) -> None:
        cmd = recorded.event
        cause = Cause(
            actor=ACTOR,
            correlation_id=recorded.correlation_id or recorded.id,
            causation_id=recorded.id,
        )
        new_target = Target(
            cmd.url, cmd.host_header, cmd.timeout_s, cmd.expected_status, cmd.body_contains
        )
        refused = refusal(new_target)
        if refused is not None:
            # Every check would fail the same way: say so now, with a code, rather than
            # fail (or dead-letter the command) and leave the stage to its deadline.
            await self._verdict(
                cmd, cause, False, colour_stats(cmd.colour, []), None, refused, REFUSED
            )
            return
        runs = [self._series(cmd, cmd.colour, new_target, cause)]
        if cmd.old_colour is not None and cmd.old_url:
            old_target = Target(
                cmd.old_url,
                cmd.old_host_header,
                cmd.timeout_s,
                cmd.expected_status,
                cmd.body_contains,
            )
            if refusal(old_target) is None:  # the old colour's figures are only a comparison
                runs.append(self._series(cmd, cmd.old_colour, old_target, cause))
        results = await asyncio.gather(*runs)
        new = colour_stats(cmd.colour, results[0])
        old = (
            colour_stats(cmd.old_colour, results[1])
            if cmd.old_colour and len(results) > 1
            else None
        )
        passed, reason = verdict(new, cmd.max_failures)
        await self._verdict(cmd, cause, passed, new, old, reason, None)

    async def _verdict(
        self,
        cmd: VerifyColour,
        cause: Cause,
        passed: bool,
        new: ColourStats,
        old: ColourStats | None,
        reason: str | None,
        code: str | None,
    ) -> None:
        verdict_event = VerificationCompleted(
            deployment_id=cmd.deployment_id,
            passed=passed,
            new=new,
            old=old,
            reason=reason,
            error_code=code,
        )
        await self._store.append(subjects.probe(cmd.deployment_id), [verdict_event], cause=cause)

    async def _series(
        self, cmd: VerifyColour, colour: Colour, target: Target, cause: Cause
    ) -> list[Result]:
        """``cmd.checks`` checks of one colour, ``interval_s`` apart, each published."""
        results = []
        for n in range(1, cmd.checks + 1):
            if n > 1 and cmd.interval_s * self._scale > 0:
                await asyncio.sleep(cmd.interval_s * self._scale)
            result = await self._http.check(target)
            results.append(result)
            event = ProbeCompleted(
                target=cmd.deployment_id,
                purpose=ProbePurpose.VERIFY,
                url=target.url,
                ok=result.ok,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error=result.error,
                deployment_id=cmd.deployment_id,
                colour=colour,
                check=n,
                host=target.host,
            )
            await self._store.append(subjects.probe(cmd.deployment_id), [event], cause=cause)
        return results
