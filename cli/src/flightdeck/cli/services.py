"""The services ``flightdeck up`` runs, each as its own process."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module]


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("orchestrator", "flightdeck.orchestrator"),
    ServiceSpec("k8s-watcher", "flightdeck.k8s_watcher"),
    ServiceSpec("ecr-poller", "flightdeck.ecr_poller"),
    ServiceSpec("prober", "flightdeck.prober"),
    ServiceSpec("notifier", "flightdeck.notifier"),
    ServiceSpec("log-relay", "flightdeck.log_relay"),
    ServiceSpec("gateway", "flightdeck.gateway"),
)
