"""One simulated container's lifecycle state, and the containerStatus it shows.

Phases (the kubelet moves a container through them on the simulated clock):
``creating`` → ``pulling`` → ``starting`` → ``running`` for a good image;
``pulling`` → ``pull-error`` (ErrImagePull) → ``pull-backoff`` (ImagePullBackOff)
→ ``pulling`` … for the pull-failure marker; ``running`` → ``terminated``
(Error) → ``crash-backoff`` (CrashLoopBackOff) → ``running`` … for the crash
marker; ``stopped`` once its pod is being deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flightdeck.sandbox.behaviour import Behaviour
from flightdeck.sandbox.chatter import LineMaker

Obj = dict[str, Any]
WAITING_REASONS = {
    "creating": "ContainerCreating",
    "pulling": "ContainerCreating",
    "starting": "ContainerCreating",
    "pull-error": "ErrImagePull",
    "pull-backoff": "ImagePullBackOff",
    "crash-backoff": "CrashLoopBackOff",
}


@dataclass
class ContainerRun:
    name: str
    image: str
    behaviour: Behaviour
    lines: LineMaker
    phase: str = "creating"
    next_at: float = 0.0
    restarts: int = 0
    pull_attempts: int = 0
    ready: bool = False
    ready_at: float | None = None
    crash_at: float | None = None
    started_at: str | None = None
    container_id: str = ""
    waiting_message: str = ""
    terminated: Obj | None = None
    last_terminated: Obj | None = None
    log_clock: float = 0.0
    log_carry: float = 0.0

    @property
    def ever_started(self) -> bool:
        return self.started_at is not None or self.restarts > 0

    def image_id(self) -> str:
        digest = hashlib.sha256(self.image.encode()).hexdigest()
        repo = (
            self.image.split("@", 1)[0].rsplit(":", 1)[0]
            if ":" in self.image.rsplit("/", 1)[-1]
            else self.image
        )
        return f"{repo}@sha256:{digest}"

    def new_container_id(self, pod_uid: str) -> str:
        seed = f"{pod_uid}/{self.name}/{self.restarts}".encode()
        self.container_id = "containerd://" + hashlib.sha256(seed).hexdigest()
        return self.container_id

    def state(self) -> Obj:
        if self.phase == "running":
            return {"running": {"startedAt": self.started_at}}
        if self.phase in ("terminated", "stopped") and self.terminated:
            return {"terminated": self.terminated}
        reason = WAITING_REASONS.get(self.phase, "ContainerCreating")
        if self.phase == "pulling" and self.pull_attempts > 1:
            reason = "ImagePullBackOff"  # a retry keeps showing the back-off until it fails again
        waiting: Obj = {"reason": reason}
        if self.waiting_message and reason != "ContainerCreating":
            waiting["message"] = self.waiting_message
        return {"waiting": waiting}

    def status(self) -> Obj:
        """The containerStatuses entry, as the kubelet reports it."""
        out: Obj = {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id() if self.ever_started else "",
            "ready": self.ready,
            "restartCount": self.restarts,
            "started": self.phase == "running",
            "state": self.state(),
            "lastState": {"terminated": self.last_terminated} if self.last_terminated else {},
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out
