"""Runs the effects the domain asks for, and says how each went.

Each effect's result comes back as an input for the next decision
(``EffectDone``, or ``Observed`` for a read), so even our own actions reach the
deployment only through ``decide``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from flightdeck.events import Cause, subjects
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.domain import effects as fx
from flightdeck.orchestrator.domain import manifests, state
from flightdeck.orchestrator.domain.inputs import EffectDone, Input, ObservationEvent, Observed
from flightdeck.orchestrator.domain.writes import KubeWriteError
from flightdeck.orchestrator.service_layer.ports import ClusterWrites, SlotRepository

log = structlog.get_logger(__name__)


class EffectRunner:
    def __init__(self, store: EventStore, kube: ClusterWrites, slots: SlotRepository) -> None:
        self._store = store
        self._kube = kube
        self._slots = slots
        self._runners: dict[type, Callable[[Any, Cause], Awaitable[Input | None]]] = {
            fx.SendCommand: self._send,
            fx.Apply: self._apply,
            fx.SwitchTraffic: self._switch,
            fx.ScaleToZero: self._scale,
            fx.ReadObject: self._read,
            fx.ReleaseApp: self._release,
        }

    async def run(self, effect: fx.Effect, cause: Cause) -> Input | None:
        return await self._runners[type(effect)](effect, cause)

    async def _send(self, effect: fx.SendCommand, cause: Cause) -> None:
        subject = subjects.command(effect.service, effect.name)
        await self._store.append(subject, [effect.command], cause=cause)

    async def _apply(self, effect: fx.Apply, cause: Cause) -> EffectDone:
        try:
            for manifest in effect.manifests:
                await self._kube.apply(manifest, manifests.FIELD_MANAGER)
        except KubeWriteError as exc:
            log.warning("apply failed", error=str(exc), permanent=exc.permanent)
            return EffectDone(state.APPLY, error=str(exc), permanent=exc.permanent)
        return EffectDone(state.APPLY)

    async def _switch(self, effect: fx.SwitchTraffic, cause: Cause) -> EffectDone:
        try:
            await self._kube.apply(effect.manifest, manifests.SWITCH_MANAGER)
        except KubeWriteError as exc:
            return EffectDone(state.SWITCH, error=str(exc), permanent=exc.permanent)
        return EffectDone(state.SWITCH)

    async def _scale(self, effect: fx.ScaleToZero, cause: Cause) -> EffectDone:
        try:
            await self._kube.scale_to_zero(effect.namespace, effect.name)
        except KubeWriteError as exc:
            return EffectDone(effect.effect, error=str(exc), permanent=exc.permanent)
        return EffectDone(effect.effect)

    async def _read(self, effect: fx.ReadObject, cause: Cause) -> Observed | None:
        subject = subjects.cluster_object(effect.namespace, effect.kind, effect.name)
        found = await self._store.read_last(subject)
        if found is None:
            return None
        event: ObservationEvent = found.event
        return Observed(event, found.position)

    async def _release(self, effect: fx.ReleaseApp, cause: Cause) -> None:
        await self._slots.release(
            effect.namespace,
            effect.app,
            effect.deployment_id,
            effect.outcome,
            effect.serving,
            cause,
        )
