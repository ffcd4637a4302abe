"""Subresources with their own shapes: ``scale`` (autoscaling/v1 Scale) and ``pods/log``."""

from __future__ import annotations

import copy
from datetime import timedelta

from flightdeck.sandbox import asgi, clock, patching, podlogs, selectors, status
from flightdeck.sandbox.asgi import Request, Send
from flightdeck.sandbox.cluster import Cluster
from flightdeck.sandbox.media import decode_body, field_manager
from flightdeck.sandbox.routes import Target
from flightdeck.sandbox.status import ApiError, bad_request
from flightdeck.sandbox.store import Obj


class Subresources:
    """The scale and log endpoints of workloads and pods."""

    def __init__(self, cluster: Cluster, logs: podlogs.PodLogs) -> None:
        self.cluster = cluster
        self.logs = logs

    def _scale_of(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        selector = selectors.render(selectors.from_label_selector(obj["spec"].get("selector")))
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": int(obj["spec"].get("replicas", 1))},
            "status": {
                "replicas": int((obj.get("status") or {}).get("replicas", 0)),
                "selector": selector,
            },
        }

    async def scale(self, request: Request, send: Send, target: Target) -> None:
        if target.rtype.subresource("scale") is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        current = self.cluster.get(target.rtype, target.namespace, target.name)
        scale = self._scale_of(current)
        if request.method == "GET":
            await asgi.respond_json(send, 200, scale)
            return
        body = decode_body(request.content_type, request.body)
        if request.method == "PUT":
            wanted = body
        elif request.method == "PATCH":
            try:
                wanted = (
                    patching.json_patch(scale, body)
                    if request.content_type == "application/json-patch+json"
                    else patching.json_merge(scale, body)
                )
            except patching.PatchError as exc:
                raise ApiError(422, str(exc), "Invalid") from exc
        else:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        if not isinstance(wanted, dict) or not isinstance(
            (wanted.get("spec") or {}).get("replicas"), int
        ):
            raise status.invalid(
                target.rtype,
                target.name,
                [("spec.replicas", "FieldValueRequired", "Required value")],
            )
        wanted_rv = (wanted.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise status.stale(target.rtype, target.name)
        replaced = copy.deepcopy(current)
        replaced["spec"]["replicas"] = wanted["spec"]["replicas"]
        updated = self.cluster.update(
            target.rtype,
            target.namespace,
            target.name,
            replaced,
            manager=field_manager(request.query, request.headers),
            subresource="scale",
            dry_run=bool(request.query.get("dryRun")),
        )
        await asgi.respond_json(send, 200, self._scale_of(updated))

    async def log(self, request: Request, send: Send, target: Target) -> None:
        pod = self.cluster.get(target.rtype, target.namespace, target.name)
        container = self._log_container(pod, request.query.get("container"))
        key = (target.namespace, target.name, container)
        if request.flag("previous"):
            log = self.logs.previous(key)
            if log is None:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{target.name}" not found'
                )
        else:
            log = self.logs.current(key)
            if log is None:
                raise bad_request(_waiting_message(pod, container))
        query = _log_query(request)
        if query.follow:
            await asgi.stream(request, send, podlogs.read(log, query), asgi.TEXT)
            return
        body = b"".join([chunk async for chunk in podlogs.read(log, query)])
        await asgi.respond(send, 200, body, asgi.TEXT)

    def _log_container(self, pod: Obj, wanted: str | None) -> str:
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        if wanted:
            if wanted not in names:
                raise bad_request(
                    f"container {wanted} is not valid for pod {pod['metadata']['name']}"
                )
            return wanted
        if len(names) == 1:
            return names[0]
        raise bad_request(
            f"a container name must be specified for pod {pod['metadata']['name']}, "
            f"choose one of: [{' '.join(names)}]"
        )


def _waiting_message(pod: Obj, container: str) -> str:
    reasons = {
        "ImagePullBackOff": "trying and failing to pull image",
        "ErrImagePull": "image can't be pulled",
    }
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            reason = ((cs.get("state") or {}).get("waiting") or {}).get(
                "reason", "ContainerCreating"
            )
            return (
                f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: '
                f"{reasons.get(reason, reason)}"
            )
    return f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: ContainerCreating'


def _log_query(request: Request) -> podlogs.LogQuery:
    moment = None
    if (seconds := request.integer("sinceSeconds")) is not None:
        moment = clock.now() - timedelta(seconds=seconds)
    elif request.query.get("sinceTime"):
        try:
            moment = clock.parse(request.query["sinceTime"])
        except ValueError as exc:
            raise bad_request(f"invalid sinceTime: {exc}") from exc
    stream = request.query.get("stream")
    return podlogs.LogQuery(
        follow=request.flag("follow"),
        timestamps=request.flag("timestamps"),
        tail_lines=request.integer("tailLines"),
        since=moment,
        limit_bytes=request.integer("limitBytes"),
        stream=stream if stream in ("Stdout", "Stderr") else None,
    )
