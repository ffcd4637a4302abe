"""What must happen in the world once events are recorded, derived from those events.

The handler appends the events a decision produced; only if that append wins
does it run the effects below. So an effect always follows the recorded
intent, is run by the one replica that recorded it, and is idempotent (apply,
a selector patch, a scale to zero, a command with a fixed key) in case a
crash makes a successor run it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flightdeck.events.base import Event
from flightdeck.events.commands import VerifyColour, WatchImage
from flightdeck.events.deployments import (
    Colour,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentStatus,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    colour_name,
)
from flightdeck.orchestrator.domain import manifests, state
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.state import Deployment


@dataclass(frozen=True)
class SendCommand:
    """Ask another service (ecr-poller, prober) for something."""

    service: str
    name: str
    command: WatchImage | VerifyColour


@dataclass(frozen=True)
class Apply:
    namespace: str
    manifests: tuple[manifests.Manifest, ...]


@dataclass(frozen=True)
class SwitchTraffic:
    namespace: str
    manifest: manifests.Manifest


@dataclass(frozen=True)
class ScaleToZero:
    """``effect`` is :data:`state.SCALE_DOWN` (the old colour) or :data:`state.CLEANUP` (the new)."""

    namespace: str
    name: str
    effect: str


@dataclass(frozen=True)
class ReadObject:
    """Read the last observation of a cluster object (it may predate this stage)."""

    namespace: str
    kind: str
    name: str


@dataclass(frozen=True)
class ReleaseApp:
    namespace: str
    app: str
    deployment_id: str
    outcome: DeploymentStatus
    serving: Colour | None


Effect = SendCommand | Apply | SwitchTraffic | ScaleToZero | ReadObject | ReleaseApp


def effects(after: Deployment, events: Sequence[Event], policy: Policy) -> list[Effect]:
    """The effects that ``events``, just recorded, ask for; ``after`` is the state they led to."""
    out: list[Effect] = []
    for event in events:
        if isinstance(event, StageStarted):
            out += _for_stage(after, event.stage, policy)
        elif isinstance(event, StageProgressed) and state.ERROR not in event.detail:
            name = event.detail.get(state.EFFECT)
            if isinstance(name, str):
                out += _named(after, name, policy)
        elif isinstance(event, StageFailed) and _needs_cleanup(after):
            out += _named(after, state.CLEANUP, policy)
        elif isinstance(event, DeploymentCompleted | DeploymentFailed | DeploymentCancelled):
            out.append(release_app(after))
    return out


def observations_wanted(s: Deployment) -> list[Effect]:
    """Reads that bring a stage up to date with what was observed before it started."""
    return _reads(s, s.stage) if s.stage is not None and not s.finished else []


def _for_stage(s: Deployment, stage: Stage, policy: Policy) -> list[Effect]:
    name = {
        Stage.ARTIFACT: state.WATCH_IMAGE,
        Stage.APPLY: state.APPLY,
        Stage.VERIFY: state.VERIFY,
        Stage.SWITCH: state.SWITCH,
    }.get(stage)
    return _named(s, name, policy) if name else _reads(s, stage)


def _reads(s: Deployment, stage: Stage) -> list[Effect]:
    ns, app = s.request.namespace, s.request.app
    if stage is Stage.ROLLOUT and s.colour is not None:
        return [ReadObject(ns, "Deployment", colour_name(app, s.colour))]
    if stage is Stage.EXPOSE:
        return [ReadObject(ns, "Ingress", app)]
    return []


def _named(s: Deployment, name: str, policy: Policy) -> list[Effect]:
    r, colour = s.request, s.colour
    if colour is None:
        return []
    if name == state.WATCH_IMAGE and s.stage_deadline is not None:
        return [SendCommand("ecr-poller", "watch-image", watch_image(s, s.stage_deadline))]
    if name == state.APPLY:
        rendered = manifests.render(
            r,
            colour,
            s.previous_colour,
            digest=s.image_digest,
            domain=policy.ingress_domain,
            ingress_class=policy.ingress_class,
            min_ready_s=policy.min_ready_s,
            progress_deadline_s=policy.progress_deadline_s,
        )
        return [Apply(r.namespace, tuple(rendered))]
    if name == state.VERIFY:
        return [SendCommand("prober", "verify-colour", verify_colour(s, policy))]
    if name == state.SWITCH:
        return [SwitchTraffic(r.namespace, manifests.switch(r.namespace, r.app, colour))]
    if name == state.SCALE_DOWN and s.previous_colour is not None:
        old = colour_name(r.app, s.previous_colour)
        return [ScaleToZero(r.namespace, old, state.SCALE_DOWN)]
    if name == state.CLEANUP:
        return [ScaleToZero(r.namespace, colour_name(r.app, colour), state.CLEANUP)]
    return []


def _needs_cleanup(s: Deployment) -> bool:
    """Did the failed colour (maybe) reach the cluster? (see ``endings.reached_cluster``)"""
    ending = s.ending
    return (
        ending is not None and s.colour is not None and (s.applied or ending.stage is Stage.APPLY)
    )


def release_app(s: Deployment) -> ReleaseApp:
    """Free the app a finished deployment held, naming the colour that serves now."""
    serving = s.colour if s.status is DeploymentStatus.SUCCEEDED else s.previous_colour
    return ReleaseApp(s.request.namespace, s.request.app, s.id, s.status, serving)


def watch_image(s: Deployment, deadline: datetime) -> WatchImage:
    r = s.request
    return WatchImage(
        repository=r.repository,
        tag=r.tag,
        deadline=deadline,
        deployment_id=s.id,
        aws_connection_id=r.aws_connection_id,
    )


def verify_colour(s: Deployment, policy: Policy) -> VerifyColour:
    """Checks of the new colour through its preview host, and of the old one beside it."""
    r, colour = s.request, s.colour
    assert colour is not None
    endpoint = str(s.access.get("endpoint") or "")
    url = endpoint + r.health_path
    old = s.previous_colour
    return VerifyColour(
        deployment_id=s.id,
        colour=colour,
        url=url,
        checks=r.verify_checks,
        host_header=manifests.colour_host(r.app, colour, policy.ingress_domain),
        old_colour=old,
        old_url=url if old is not None else None,
        old_host_header=manifests.colour_host(r.app, old, policy.ingress_domain) if old else None,
    )
