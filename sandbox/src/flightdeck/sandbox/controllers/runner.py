"""Runs the simulated control plane: one loop, woken by changes and by a tick.

Controllers run in the order a change flows (deployments → replica sets →
kubelet → endpoints → ingresses), each only when something it reads changed
or its periodic re-check is due; the kubelet runs every tick because its
timers and the containers' logging are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flightdeck.sandbox.controllers.context import Context
from flightdeck.sandbox.controllers.deployments import DeploymentController
from flightdeck.sandbox.controllers.endpoints import EndpointsController
from flightdeck.sandbox.controllers.pods import Kubelet
from flightdeck.sandbox.controllers.replicasets import ReplicaSetController
from flightdeck.sandbox.controllers.services import IngressController
from flightdeck.sandbox.store import Change

log = logging.getLogger(__name__)

TICK = 0.02
RECHECK = 0.25


@dataclass
class _Loop:
    name: str
    run: Callable[[], None]
    reads: frozenset[str]
    every: float
    last: float = field(default=0.0)


class Simulation:
    """The controllers over one cluster.

    Args:
        ctx: the shared cluster, recorder, clock, config and logs.
        ingress_port: the port the Ingress load-balancer address points at.
    """

    def __init__(self, ctx: Context, ingress_port: int) -> None:
        self.ctx = ctx
        self.kubelet = Kubelet(ctx)
        self._changed: set[str] = set()
        self._wake = asyncio.Event()
        self._loops = [
            _Loop(
                "deployments",
                DeploymentController(ctx).sync,
                frozenset({"deployments.apps", "replicasets.apps", "pods"}),
                RECHECK,
            ),
            _Loop(
                "replicasets",
                ReplicaSetController(ctx).sync,
                frozenset({"replicasets.apps", "pods"}),
                RECHECK,
            ),
            _Loop("kubelet", self.kubelet.sync, frozenset(), 0.0),
            _Loop("endpoints", EndpointsController(ctx).sync, frozenset({"services", "pods"}), 1.0),
            _Loop(
                "ingresses",
                IngressController(ctx, ingress_port).sync,
                frozenset({"ingresses.networking.k8s.io"}),
                RECHECK,
            ),
        ]
        ctx.cluster.store.listen(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.key != "events":
            self._changed.add(change.key)
            self._wake.set()

    def step(self) -> None:
        """Run every controller that has something to do, once."""
        now = self.ctx.clock.monotonic()
        changed, self._changed = self._changed, set()
        for loop in self._loops:
            if not (changed & loop.reads) and now - loop.last < loop.every:
                continue
            loop.last = now
            try:
                loop.run()
            except Exception:  # one controller's bug must not stop the cluster
                log.exception("controller %s failed", loop.name)
            changed |= self._changed
        try:
            self.ctx.logs.flush()
        except Exception:  # the node's disk must not stop the cluster either
            log.exception("writing the node's log files failed")

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK)
            self._wake.clear()
            self.step()
            await asyncio.sleep(0)
