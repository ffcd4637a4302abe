"""``/sandbox/v1``: the sandbox's own control API, for tests and the CLI.

Fault injection and image pushes, over HTTP on the Kubernetes port, so any
process (not only the one that started the sandbox) can drive them.

- ``GET  /sandbox/v1/info``
- ``POST /sandbox/v1/faults/drop-watches``
- ``POST /sandbox/v1/faults/expire-resource-versions``  ``{"drop_watches"?}``
- ``POST /sandbox/v1/faults/delay-api``  ``{"seconds", "count"?, "for_s"?}``
- ``POST /sandbox/v1/faults/fail-api``   ``{"status"?, "count"?, "for_s"?}``
- ``POST /sandbox/v1/faults/clear``
- ``POST /sandbox/v1/faults/kill-pod``   ``{"namespace", "name"}``
- ``POST /sandbox/v1/images``            ``{"repository", "tag", "delay_s"?}``
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from flightdeck.sandbox import asgi, resources
from flightdeck.sandbox.asgi import Request, Send
from flightdeck.sandbox.cluster import Cluster
from flightdeck.sandbox.faults import Faults
from flightdeck.sandbox.status import ApiError, bad_request

log = logging.getLogger(__name__)
PREFIX = "/sandbox/v1/"
Pusher = Callable[[str, str], Awaitable[dict[str, Any]]]


class Admin:
    def __init__(
        self, cluster: Cluster, faults: Faults, push: Pusher, info: dict[str, Any]
    ) -> None:
        self.cluster = cluster
        self.faults = faults
        self.push = push
        self.info = info
        self._pending: set[asyncio.Task[None]] = set()
        self._routes: dict[tuple[str, str], Callable[[dict[str, Any]], Awaitable[Any]]] = {
            ("GET", "info"): self._info,
            ("POST", "faults/drop-watches"): self._drop_watches,
            ("POST", "faults/expire-resource-versions"): self._expire,
            ("POST", "faults/delay-api"): self._delay,
            ("POST", "faults/fail-api"): self._fail,
            ("POST", "faults/clear"): self._clear,
            ("POST", "faults/kill-pod"): self._kill_pod,
            ("POST", "images"): self._image,
        }

    async def handle(self, request: Request, send: Send) -> None:
        route = self._routes.get((request.method, request.path[len(PREFIX) :].strip("/")))
        if route is None:
            raise ApiError(
                404, f"no sandbox admin endpoint {request.method} {request.path}", "NotFound"
            )
        body = request.json() if request.body else {}
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object")
        await asgi.respond_json(send, 200, await route(body))

    async def _info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**self.info, "resourceVersion": str(self.cluster.store.rv)}

    async def _drop_watches(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"dropped": self.cluster.store.drop_watchers()}

    async def _expire(self, body: dict[str, Any]) -> dict[str, Any]:
        self.cluster.store.compact()
        dropped = self.cluster.store.drop_watchers() if body.get("drop_watches") else 0
        return {"oldestResumable": str(self.cluster.store.oldest_resumable()), "dropped": dropped}

    async def _delay(self, body: dict[str, Any]) -> dict[str, Any]:
        self.faults.delay_api(
            float(body.get("seconds", 1.0)), _opt_int(body, "count"), _opt_float(body, "for_s")
        )
        return {"delaying": True}

    async def _fail(self, body: dict[str, Any]) -> dict[str, Any]:
        self.faults.fail_api(
            int(body.get("status", 500)), _opt_int(body, "count"), _opt_float(body, "for_s")
        )
        return {"failing": True}

    async def _clear(self, body: dict[str, Any]) -> dict[str, Any]:
        self.faults.clear()
        return {"cleared": True}

    async def _kill_pod(self, body: dict[str, Any]) -> dict[str, Any]:
        namespace, name = str(body.get("namespace", "default")), str(body.get("name", ""))
        gone = self.cluster.delete(resources.PODS, namespace, name, grace_seconds=0)
        return {"killed": name, "uid": (gone or {}).get("metadata", {}).get("uid", "")}

    async def _image(self, body: dict[str, Any]) -> dict[str, Any]:
        repository, tag = str(body.get("repository", "")), str(body.get("tag", ""))
        if not repository or not tag:
            raise bad_request("repository and tag are required")
        delay = float(body.get("delay_s") or 0.0)
        if delay <= 0:
            return {"pushed": True, **await self.push(repository, tag)}
        task = asyncio.create_task(self._push_later(repository, tag, delay))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return {"pushed": False, "repository": repository, "tag": tag, "delay_s": delay}

    async def _push_later(self, repository: str, tag: str, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.push(repository, tag)
        except Exception:
            log.exception("delayed push of %s:%s failed", repository, tag)


def _opt_int(body: dict[str, Any], key: str) -> int | None:
    return int(body[key]) if body.get(key) is not None else None


def _opt_float(body: dict[str, Any], key: str) -> float | None:
    return float(body[key]) if body.get(key) is not None else None
