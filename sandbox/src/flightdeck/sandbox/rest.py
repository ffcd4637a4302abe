"""Resource requests: the verbs of the Kubernetes REST API over the cluster.

Maps method + path + query onto :class:`~flightdeck.sandbox.cluster.Cluster`
operations and answers in the representation the client negotiated (object,
list, Table, PartialObjectMetadata, watch stream, scale, log).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flightdeck.sandbox import (
    asgi,
    metrics,
    podlogs,
    resources,
    selectors,
    status,
    tables,
)
from flightdeck.sandbox.asgi import Request, Send
from flightdeck.sandbox.cluster import APPLY, Cluster
from flightdeck.sandbox.config import SandboxConfig
from flightdeck.sandbox.media import Wanted, decode_body, field_manager, negotiate
from flightdeck.sandbox.routes import Target
from flightdeck.sandbox.status import ApiError, bad_request
from flightdeck.sandbox.store import Obj
from flightdeck.sandbox.subresources import Subresources
from flightdeck.sandbox.watching import DEFAULT_TIMEOUT, WatchQuery, WatchStream


def _without_type(obj: Obj) -> Obj:
    """List items carry no kind/apiVersion on the wire, as with a real server."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


class Rest:
    """The resource verbs.

    Args:
        cluster: the cluster writes go through.
        logs: the containers' log buffers (pods/log).
        config: the sandbox settings (bookmark interval, speed).
    """

    def __init__(self, cluster: Cluster, logs: podlogs.PodLogs, config: SandboxConfig) -> None:
        self.cluster = cluster
        self.config = config
        self.subresources = Subresources(cluster, logs)

    async def handle(self, request: Request, send: Send, target: Target) -> None:
        method = request.method
        if target.subresource == "log" and method == "GET":
            await self.subresources.log(request, send, target)
        elif target.subresource == "scale":
            await self.subresources.scale(request, send, target)
        elif target.subresource and target.subresource != "status":
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        elif target.rtype.virtual:
            await self._virtual(request, send, target)
        elif not target.name:
            await self._collection(request, send, target)
        else:
            await self._object(request, send, target)

    # -- collections -------------------------------------------------------------

    async def _collection(self, request: Request, send: Send, target: Target) -> None:
        if request.method == "GET":
            if target.watch or request.flag("watch"):
                await self._watch(request, send, target)
            else:
                await self._list(request, send, target)
        elif request.method == "POST" and (target.namespace or not target.rtype.namespaced):
            body = decode_body(request.content_type or "application/json", request.body)
            created = self.cluster.create(
                target.rtype,
                target.namespace,
                body,
                manager=field_manager(request.query, request.headers),
                dry_run=bool(request.query.get("dryRun")),
            )
            await self._answer(request, send, target, created, 201)
        elif request.method == "DELETE":
            await self._delete_collection(request, send, target)
        else:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )

    async def _list(self, request: Request, send: Send, target: Target) -> None:
        wanted = negotiate(request.headers.get("accept"))
        items = self.cluster.list(
            target.rtype,
            target.namespace,
            request.query.get("labelSelector", ""),
            request.query.get("fieldSelector", ""),
        )
        await self._send_list(request, send, target, items, wanted)

    async def _send_list(
        self, request: Request, send: Send, target: Target, items: list[Obj], wanted: Wanted
    ) -> None:
        rv = str(self.cluster.store.rv)
        page, continue_token, remaining = _paginate(items, request, rv)
        if wanted.form == "table":
            body = tables.table(
                target.rtype.key,
                page,
                rv,
                include=request.query.get("includeObject", "Metadata"),
                version=wanted.version,
            )
        elif wanted.form == "partial":
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{wanted.version}",
                "metadata": {"resourceVersion": rv},
                "items": [
                    {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": f"meta.k8s.io/{wanted.version}",
                        "metadata": o["metadata"],
                    }
                    for o in page
                ],
            }
        else:
            body = {
                "kind": target.rtype.list_kind,
                "apiVersion": target.rtype.api_version,
                "metadata": {"resourceVersion": rv},
                "items": [_without_type(o) for o in page],
            }
        if continue_token:
            body["metadata"]["continue"] = continue_token
            body["metadata"]["remainingItemCount"] = remaining
        await asgi.respond_json(send, 200, body)

    async def _watch(self, request: Request, send: Send, target: Target) -> None:
        wanted = negotiate(request.headers.get("accept"))
        raw_rv = request.query.get("resourceVersion", "")
        try:
            since = None if raw_rv in ("", "0") else int(raw_rv)
            labels = selectors.parse_labels(request.query.get("labelSelector"))
            fields = selectors.parse_fields(request.query.get("fieldSelector"))
        except (ValueError, selectors.SelectorError) as exc:
            raise bad_request(str(exc)) from exc
        timeout = request.integer("timeoutSeconds")
        query = WatchQuery(
            since=since,
            labels=labels,
            fields=fields,
            timeout=float(timeout) if timeout is not None and timeout > 0 else DEFAULT_TIMEOUT,
            bookmarks=request.flag("allowWatchBookmarks"),
            initial_events_end=request.flag("sendInitialEvents"),
            wanted=wanted,
            include=request.query.get("includeObject", "Metadata"),
        )
        stream = WatchStream(
            self.cluster.store,
            target.rtype,
            target.namespace,
            query,
            self.config.wall(self.config.timings.bookmark_interval),
        )
        await asgi.stream(request, send, stream.events())

    async def _delete_collection(self, request: Request, send: Send, target: Target) -> None:
        items = self.cluster.list(
            target.rtype,
            target.namespace,
            request.query.get("labelSelector", ""),
            request.query.get("fieldSelector", ""),
        )
        options = _delete_options(request)
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            result = self.cluster.delete(
                target.rtype, meta.get("namespace", ""), meta["name"], **options
            )
            deleted.append(_without_type(result or obj))
        await asgi.respond_json(
            send,
            200,
            {
                "kind": target.rtype.list_kind,
                "apiVersion": target.rtype.api_version,
                "metadata": {"resourceVersion": str(self.cluster.store.rv)},
                "items": deleted,
            },
        )

    # -- single objects ----------------------------------------------------------

    async def _object(self, request: Request, send: Send, target: Target) -> None:
        rtype, ns, name = target.rtype, target.namespace, target.name
        dry_run = bool(request.query.get("dryRun"))
        if request.method == "GET":
            if request.flag("watch"):
                raise bad_request(
                    "watch of a single object: use fieldSelector=metadata.name=<name>"
                )
            await self._answer(request, send, target, self.cluster.get(rtype, ns, name))
        elif request.method == "PUT":
            body = decode_body(request.content_type, request.body)
            updated = self.cluster.update(
                rtype,
                ns,
                name,
                body,
                manager=field_manager(request.query, request.headers),
                subresource=target.subresource,
                dry_run=dry_run,
            )
            await self._answer(request, send, target, updated)
        elif request.method == "PATCH":
            await self._patch(request, send, target, dry_run)
        elif request.method == "DELETE" and not target.subresource:
            result = self.cluster.delete(rtype, ns, name, **_delete_options(request))
            if result is None:
                await asgi.respond_json(send, 200, status.success(rtype, name))
            else:
                await self._answer(request, send, target, result)
        else:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )

    async def _patch(self, request: Request, send: Send, target: Target, dry_run: bool) -> None:
        content_type = request.content_type
        body = decode_body(content_type, request.body)
        existed = self.cluster.find(target.rtype, target.namespace, target.name) is not None
        if content_type == APPLY and target.subresource:
            raise ApiError(
                415,
                "server-side apply of a subresource is not supported by the sandbox",
                "UnsupportedMediaType",
            )
        patched = self.cluster.patch(
            target.rtype,
            target.namespace,
            target.name,
            content_type,
            body,
            manager=request.query.get("fieldManager")
            if content_type == APPLY
            else field_manager(request.query, request.headers),
            force=request.flag("force"),
            subresource=target.subresource,
            dry_run=dry_run,
        )
        await self._answer(request, send, target, patched, 200 if existed else 201)

    async def _answer(
        self, request: Request, send: Send, target: Target, obj: Obj, code: int = 200
    ) -> None:
        wanted = negotiate(request.headers.get("accept"))
        if wanted.form == "table":
            body = tables.table(
                target.rtype.key,
                [obj],
                obj["metadata"].get("resourceVersion", ""),
                include=request.query.get("includeObject", "Metadata"),
                version=wanted.version,
            )
        elif wanted.form == "partial":
            body = {
                "kind": "PartialObjectMetadata",
                "apiVersion": f"meta.k8s.io/{wanted.version}",
                "metadata": obj["metadata"],
            }
        else:
            body = obj
        await asgi.respond_json(send, code, body)

    # -- metrics ---------------------------------------------------------------

    async def _virtual(self, request: Request, send: Send, target: Target) -> None:
        if request.method != "GET":
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        store = self.cluster.store
        if target.rtype.kind == "PodMetrics":
            pods = self.cluster.list(
                resources.PODS, target.namespace, request.query.get("labelSelector", "")
            )
            found = [m for p in pods if (m := metrics.pod_metrics(p)) is not None]
        else:
            pods = store.list("pods")
            found = [metrics.node_metrics(n, pods) for n in store.list("nodes")]
        if target.name:
            match = next((m for m in found if m["metadata"]["name"] == target.name), None)
            if match is None:
                raise status.not_found(target.rtype, target.name)
            await asgi.respond_json(send, 200, match)
            return
        await self._send_list(
            request, send, target, found, negotiate(request.headers.get("accept"))
        )


def _delete_options(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if request.body:
        decoded = decode_body(request.content_type or "application/json", request.body)
        body = decoded if isinstance(decoded, dict) else {}
    grace = body.get("gracePeriodSeconds", request.integer("gracePeriodSeconds"))
    propagation = (
        body.get("propagationPolicy") or request.query.get("propagationPolicy") or "Background"
    )
    dry_run = bool(body.get("dryRun") or request.query.get("dryRun"))
    return {
        "grace_seconds": grace,
        "propagation": propagation,
        "preconditions": body.get("preconditions") or None,
        "dry_run": dry_run,
    }


def _paginate(items: list[Obj], request: Request, rv: str) -> tuple[list[Obj], str, int]:
    """limit/continue paging; the token is an offset into the (name-ordered) result."""
    start = 0
    if token := request.query.get("continue"):
        try:
            start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request("continue key is not valid") from exc
    limit = request.integer("limit")
    if not limit or limit <= 0 or start + limit >= len(items):
        return items[start:], "", 0
    end = start + limit
    token = base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": end}).encode()).decode()
    return items[start:end], token, len(items) - end
