"""The scheduler and the kubelet: pods from Pending to Ready, restarts, termination.

Each pod gets an in-memory run (its node, IP and containers' phases); every
step moves runs whose next moment has come and writes the pod's status back,
with the Events a real node emits, and lets running containers log.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import timedelta

from flightdeck.sandbox import behaviour, clock, resources
from flightdeck.sandbox.chatter import LineMaker
from flightdeck.sandbox.controllers.containers import ContainerRun
from flightdeck.sandbox.controllers.context import Context, Obj
from flightdeck.sandbox.store import Change

LOG_INTERVAL = 0.1  # wall seconds between log writes; lines keep their own timestamps
KUBELET = "kubelet"
SCHEDULER = "default-scheduler"
_MAX_LINES_PER_STEP = 20000
STDERR_HELLO = "INFO diagnostics go to stderr"
"""What every container writes to stderr as it starts: known, and at a level that would
make anyone guessing the stream from the level say stdout."""


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    stage: str  # "unscheduled", "scheduled" (sandbox being set up) or "active"
    next_at: float
    containers: list[ContainerRun]
    node: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    start_time: str = ""
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)
    terminate_at: float | None = None


class Kubelet:
    """All nodes' kubelets (and the scheduler) in one: moves every pod along."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._runs: dict[str, PodRun] = {}
        self._pulled: set[tuple[str, str]] = set()
        self._ips: set[str] = set()
        self._dirty = True
        self._due = 0.0
        self._logged = 0.0
        ctx.cluster.store.listen(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.key == "pods":
            self._dirty = True

    def sync(self) -> None:
        """Move the pods whose moment has come (or that changed); let running containers log."""
        now = self.ctx.clock.monotonic()
        if self._dirty or now >= self._due:
            self._dirty = False
            self._due = self._pass(now)
        if now - self._logged >= LOG_INTERVAL:
            self._logged = now
            for run in self._runs.values():
                if run.stage == "active":
                    self._write_logs(run, now)

    def _pass(self, now: float) -> float:
        """One look at every pod; returns when the next one needs looking at."""
        seen, due = set(), math.inf
        for pod in self.ctx.cluster.store.list("pods"):
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            run = self._runs.get(uid) or self._adopt(pod, now)
            if pod["metadata"].get("deletionTimestamp"):
                self._terminate(pod, run, now)
            else:
                self._advance(pod, run, now)
            due = min(due, _next_moment(pod, run))
        for uid in set(self._runs) - seen:
            self._forget(self._runs[uid])
        return due

    # -- lifecycle -------------------------------------------------------------

    def _adopt(self, pod: Obj, now: float) -> PodRun:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        app = (meta.get("labels") or {}).get("app", meta["name"])
        containers = [
            ContainerRun(
                c["name"],
                c.get("image", ""),
                behaviour.of(c, self.ctx.config.markers, self.ctx.config.log_lines_per_second),
                LineMaker(f"{self.ctx.config.seed}/{meta['uid']}/{c['name']}", app),
            )
            for c in spec.get("containers") or []
        ]
        node = spec.get("nodeName") or ""
        stage = "scheduled" if node else "unscheduled"
        delay = self.ctx.config.timings.sandbox_setup if node else self.ctx.config.timings.schedule
        run = PodRun(
            meta["uid"],
            meta["namespace"],
            meta["name"],
            stage,
            now + self.ctx.clock.wall(delay),
            containers,
            node=node,
        )
        self._runs[run.uid] = run
        return run

    def _advance(self, pod: Obj, run: PodRun, now: float) -> None:
        if run.stage == "unscheduled":
            if now >= run.next_at:
                self._schedule(pod, run, now)
            return
        if run.stage == "scheduled":
            if now < run.next_at:
                return
            self._set_up(pod, run, now)
            changed = True
        else:
            changed = False
            for container in run.containers:
                changed = self._step(pod, run, container, now) or changed
        if changed:
            self._write_status(pod, run)

    def _schedule(self, pod: Obj, run: PodRun, now: float) -> None:
        load = {n: 0 for n in self.ctx.config.nodes}
        for other in self._runs.values():
            if other.node in load:
                load[other.node] += 1
        node = min(load, key=lambda n: (load[n], n))
        bound = copy.deepcopy(pod)
        bound["spec"]["nodeName"] = node
        run.node = node
        run.conditions["PodScheduled"] = ("True", clock.rfc3339())
        bound["status"]["conditions"] = self._conditions(run, ready=False)
        self.ctx.cluster.write(resources.PODS, bound)
        self.ctx.recorder.emit(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {run.namespace}/{run.name} to {node}",
            component=SCHEDULER,
        )
        run.stage = "scheduled"
        run.next_at = now + self.ctx.clock.wall(self.ctx.config.timings.sandbox_setup)

    def _node_index(self, node: str) -> int:
        nodes = list(self.ctx.config.nodes)
        return nodes.index(node) + 1 if node in nodes else 1

    def _set_up(self, pod: Obj, run: PodRun, now: float) -> None:
        index = self._node_index(run.node)
        run.host_ip = f"172.18.0.{index + 1}"
        run.pod_ip = self._allocate_ip(index)
        run.start_time = clock.rfc3339()
        run.conditions["PodReadyToStartContainers"] = ("True", run.start_time)
        run.conditions["Initialized"] = ("True", run.start_time)
        run.stage = "active"
        for container in run.containers:
            self._begin_pull(pod, run, container, now)

    def _allocate_ip(self, node_index: int) -> str:
        for host in range(2, 255):
            candidate = f"10.244.{node_index}.{host}"
            if candidate not in self._ips:
                self._ips.add(candidate)
                return candidate
        return f"10.244.{node_index}.255"

    def _forget(self, run: PodRun) -> None:
        self.ctx.logs.forget(run.namespace, run.name)
        self._ips.discard(run.pod_ip)
        self._runs.pop(run.uid, None)

    # -- containers ------------------------------------------------------------

    def _event(
        self, pod: Obj, run: PodRun, container: ContainerRun, type_: str, reason: str, message: str
    ) -> None:
        self.ctx.recorder.emit(
            pod,
            type_,
            reason,
            message,
            component=KUBELET,
            host=run.node,
            field_path=f"spec.containers{{{container.name}}}",
        )

    def _backoff(self, attempt: int) -> float:
        timings = self.ctx.config.timings
        return min(timings.backoff_initial * 2 ** max(attempt - 1, 0), timings.backoff_max)

    def _begin_pull(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> None:
        policy = next(
            (s.get("imagePullPolicy") for s in pod["spec"]["containers"] if s["name"] == c.name),
            None,
        )
        if (
            (run.node, c.image) in self._pulled
            and policy != "Always"
            and not c.behaviour.pull_fails
        ):
            self._event(
                pod,
                run,
                c,
                "Normal",
                "Pulled",
                f'Container image "{c.image}" already present on machine',
            )
            c.phase, c.next_at = (
                "starting",
                now + self.ctx.clock.wall(self.ctx.config.timings.container_start),
            )
            return
        self._event(pod, run, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
        c.pull_attempts += 1
        c.phase, c.next_at = (
            "pulling",
            now + self.ctx.clock.wall(self.ctx.config.timings.image_pull),
        )

    def _step(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> bool:
        """Move one container along; True when its visible status changed."""
        if c.phase == "running":
            return self._step_running(pod, run, c, now)
        if c.phase == "stopped" or now < c.next_at:
            return False
        wall = self.ctx.clock.wall
        if c.phase == "pulling":
            return self._pulled_or_failed(pod, run, c, now)
        if c.phase == "pull-error":
            c.phase, c.waiting_message = "pull-backoff", f'Back-off pulling image "{c.image}"'
            self._event(pod, run, c, "Normal", "BackOff", c.waiting_message)
            self._event(pod, run, c, "Warning", "Failed", "Error: ImagePullBackOff")
            c.next_at = now + wall(self._backoff(c.pull_attempts))
            return True
        if c.phase == "pull-backoff":
            self._begin_pull(pod, run, c, now)
            return False
        if c.phase == "starting":
            self._start(pod, run, c, now)
            return True
        if c.phase == "terminated":
            return self._after_exit(pod, run, c, now)
        if c.phase == "crash-backoff":
            c.restarts += 1
            self._start(pod, run, c, now)
            return True
        return False

    def _pulled_or_failed(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> bool:
        if c.behaviour.pull_fails:
            c.waiting_message = (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{c.image}": '
                f'failed to resolve reference "{c.image}": {c.image}: not found'
            )
            self._event(
                pod,
                run,
                c,
                "Warning",
                "Failed",
                f'Failed to pull image "{c.image}": {c.waiting_message}',
            )
            self._event(pod, run, c, "Warning", "Failed", "Error: ErrImagePull")
            c.phase = "pull-error"
            c.next_at = now + self.ctx.clock.wall(self.ctx.config.timings.container_start)
            return True
        took = self.ctx.config.timings.image_pull
        self._pulled.add((run.node, c.image))
        self._event(
            pod,
            run,
            c,
            "Normal",
            "Pulled",
            f'Successfully pulled image "{c.image}" in {took:.3g}s ({took:.3g}s including waiting). '
            f"Image size: {len(c.image) * 1048576 + 3370706} bytes.",
        )
        c.phase, c.next_at = (
            "starting",
            now + self.ctx.clock.wall(self.ctx.config.timings.container_start),
        )
        return False

    def _start(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> None:
        if c.terminated:
            c.last_terminated = c.terminated
            self._event(
                pod,
                run,
                c,
                "Normal",
                "Pulled",
                f'Container image "{c.image}" already present on machine',
            )
        container_id = c.new_container_id(run.uid)
        c.phase, c.started_at, c.terminated, c.ready = "running", clock.rfc3339(), None, False
        self._event(pod, run, c, "Normal", "Created", f"Created container: {c.name}")
        self._event(pod, run, c, "Normal", "Started", f"Started container {c.name}")
        log = self.ctx.logs.start((run.namespace, run.name, c.name), run.uid, c.restarts)
        log.write(
            "stdout", f"INFO starting {c.name} image={c.image} container={container_id[13:25]}"
        )
        log.write("stderr", STDERR_HELLO)  # an INFO line on stderr: no level tells its stream
        log.write("stdout", "INFO listening on :8080")
        c.log_clock = now
        spec: Obj = next((s for s in pod["spec"]["containers"] if s["name"] == c.name), {})
        probe_delay = float((spec.get("readinessProbe") or {}).get("initialDelaySeconds", 0))
        c.ready_at = now + self.ctx.clock.wall(probe_delay + self.ctx.config.timings.readiness)
        c.crash_at = (
            now + self.ctx.clock.wall(self.ctx.config.timings.crash_after)
            if c.behaviour.crashes
            else None
        )

    def _step_running(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> bool:
        if c.crash_at is not None and now >= c.crash_at:
            log = self.ctx.logs.current((run.namespace, run.name, c.name))
            if log is not None:
                log.write(
                    "stderr",
                    "panic: runtime error: invalid memory address or nil pointer dereference",
                )
                log.write(
                    "stderr",
                    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
                )
                log.write("stderr", f'{{"level":"error","msg":"{c.name} exited","exitCode":1}}')
                log.end()
            c.terminated = {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": c.started_at,
                "finishedAt": clock.rfc3339(),
                "containerID": c.container_id,
            }
            c.phase, c.ready, c.crash_at = "terminated", False, None
            c.next_at = now + self.ctx.clock.wall(self.ctx.config.timings.container_start)
            return True
        if c.behaviour.crashes:
            return False  # it crashes during start-up, before passing readiness
        if not c.ready and c.ready_at is not None and now >= c.ready_at:
            c.ready = True
            return True
        return False

    def _after_exit(self, pod: Obj, run: PodRun, c: ContainerRun, now: float) -> bool:
        if pod["spec"].get("restartPolicy") == "Never":
            return False
        if c.restarts == 0:  # the first restart is immediate, back-off starts after it
            c.restarts = 1
            self._start(pod, run, c, now)
            return True
        delay = self._backoff(c.restarts)
        c.phase = "crash-backoff"
        c.waiting_message = (
            f"back-off {int(delay)}s restarting failed container={c.name} "
            f"pod={run.name}_{run.namespace}({run.uid})"
        )
        self._event(
            pod,
            run,
            c,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {run.name}_{run.namespace}({run.uid})",
        )
        c.next_at = now + self.ctx.clock.wall(delay)
        return True

    def _write_logs(self, run: PodRun, now: float) -> None:
        wall_now = clock.now()
        for c in run.containers:
            if c.phase != "running" or c.behaviour.log_rate <= 0:
                continue
            elapsed = max(now - c.log_clock, 0.0)
            due = elapsed * c.behaviour.log_rate + c.log_carry
            count = min(int(due), _MAX_LINES_PER_STEP)
            c.log_carry, c.log_clock = due - int(due), now
            log = self.ctx.logs.current((run.namespace, run.name, c.name))
            if log is None or count == 0:
                continue
            for n in range(count):
                at = wall_now - timedelta(seconds=elapsed * (count - 1 - n) / count)
                stream, text = c.lines.next(at)
                log.write(stream, text, at)

    # -- termination -----------------------------------------------------------

    def _terminate(self, pod: Obj, run: PodRun, now: float) -> None:
        if run.terminate_at is None:
            grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 30)
            run.terminate_at = now + self.ctx.clock.wall(
                min(grace, self.ctx.config.timings.termination)
            )
            for c in run.containers:
                if c.phase == "running":
                    self._event(pod, run, c, "Normal", "Killing", f"Stopping container {c.name}")
            return
        if now < run.terminate_at:
            return
        for c in run.containers:
            if c.phase == "running":
                c.terminated = {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": c.started_at,
                    "finishedAt": clock.rfc3339(),
                    "containerID": c.container_id,
                }
            if c.terminated:
                c.phase = "stopped"
            c.ready = False
            self.ctx.logs.end((run.namespace, run.name, c.name))
        if run.stage == "active":
            self._write_status(pod, run)
        self.ctx.cluster.store.remove("pods", run.namespace, run.name)
        self._forget(run)

    # -- status ----------------------------------------------------------------

    def _conditions(self, run: PodRun, ready: bool) -> list[Obj]:
        now = clock.rfc3339()
        unready = [c.name for c in run.containers if not c.ready]
        wanted = "True" if ready else "False"
        for kind in ("Ready", "ContainersReady"):
            if run.conditions.get(kind, ("", ""))[0] != wanted:
                run.conditions[kind] = (wanted, now)
        out = []
        for kind in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ):
            if kind not in run.conditions or (
                kind in ("Ready", "ContainersReady") and run.stage == "unscheduled"
            ):
                continue
            status, since = run.conditions[kind]
            entry: Obj = {
                "type": kind,
                "status": status,
                "lastProbeTime": None,
                "lastTransitionTime": since,
            }
            if kind in ("Ready", "ContainersReady") and status == "False":
                entry["reason"] = "ContainersNotReady"
                entry["message"] = f"containers with unready status: [{' '.join(unready)}]"
            out.append(entry)
        return out

    def _write_status(self, pod: Obj, run: PodRun) -> None:
        current = self.ctx.cluster.store.get("pods", run.namespace, run.name) or pod
        status = copy.deepcopy(current.get("status") or {})
        ready = bool(run.containers) and all(c.ready for c in run.containers)
        failed = current["spec"].get("restartPolicy") == "Never" and any(
            c.terminated and c.terminated.get("exitCode") for c in run.containers
        )
        started = all(c.ever_started for c in run.containers)
        status.update(
            {
                "phase": "Failed" if failed else ("Running" if started else "Pending"),
                "conditions": self._conditions(run, ready),
                "hostIP": run.host_ip,
                "hostIPs": [{"ip": run.host_ip}],
                "podIP": run.pod_ip,
                "podIPs": [{"ip": run.pod_ip}],
                "startTime": run.start_time,
                "containerStatuses": [c.status() for c in run.containers],
            }
        )
        self.ctx.cluster.write(
            resources.PODS, {**current, "metadata": dict(current["metadata"]), "status": status}
        )


def _next_moment(pod: Obj, run: PodRun) -> float:
    """The monotonic time at which this pod's run next has something to do."""
    if run.terminate_at is not None:
        return run.terminate_at
    if run.stage != "active":
        return run.next_at
    moments = []
    for c in run.containers:
        if c.phase == "running":
            if c.crash_at is not None:
                moments.append(c.crash_at)
            elif not c.ready and c.ready_at is not None:
                moments.append(c.ready_at)
        elif c.phase != "stopped" and not (
            c.phase == "terminated" and pod["spec"].get("restartPolicy") == "Never"
        ):
            moments.append(c.next_at)
    return min(moments, default=math.inf)
