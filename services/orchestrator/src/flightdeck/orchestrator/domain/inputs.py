"""What a decision reacts to: observations, commands, the clock, and our own effects' results."""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.cluster import DeploymentObserved, IngressObserved, PodObserved
from flightdeck.events.commands import CancelDeployment
from flightdeck.events.deployments import Colour
from flightdeck.events.probes import ProbeCompleted, VerificationCompleted

ObservationEvent = (
    ImageObserved
    | ImageMissing
    | DeploymentObserved
    | PodObserved
    | IngressObserved
    | ProbeCompleted
    | VerificationCompleted
)


@dataclass(frozen=True)
class Start:
    """The app is ours: deploy into ``colour`` (``previous`` serves until Switch)."""

    colour: Colour
    previous: Colour | None


@dataclass(frozen=True)
class Busy:
    """Another deployment of the same app is still running."""

    holder: str
    serving: Colour | None


@dataclass(frozen=True)
class Refused:
    """Tenancy forbids the target (ADR 0012): fail before touching the cluster."""

    code: str
    message: str


@dataclass(frozen=True)
class Observed:
    """Another service's event; ``position`` orders observations of one object."""

    event: ObservationEvent
    position: int


@dataclass(frozen=True)
class Tick:
    """A deadline or a retry time may have passed."""


@dataclass(frozen=True)
class Resume:
    """This replica (re)discovered the deployment: pick up effects that may have been lost.

    ``requests`` also re-sends requests to other services (image watch, verification):
    only right after a start, since a crash may have fallen between recording the
    intent and sending the request.
    """

    requests: bool = False


@dataclass(frozen=True)
class EffectDone:
    """The result of an effect we performed: ``error`` is ``None`` when it worked."""

    effect: str
    error: str | None = None
    permanent: bool = False


Input = Start | Busy | Refused | Observed | Tick | Resume | EffectDone | CancelDeployment
