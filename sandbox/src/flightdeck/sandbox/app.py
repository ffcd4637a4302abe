"""The Kubernetes API port: one explicit router over raw ASGI.

Discovery, OpenAPI and health answer as a real API server's do; resource
paths go through the injected faults and then to :class:`~flightdeck.sandbox.rest.Rest`;
``/sandbox/v1`` is the sandbox's own admin API. Every error is a Status.
"""

from __future__ import annotations

import asyncio
import logging

from flightdeck.sandbox import asgi, discovery, openapi, routes
from flightdeck.sandbox.admin import PREFIX, Admin
from flightdeck.sandbox.asgi import Receive, Request, Scope, Send
from flightdeck.sandbox.faults import Faults
from flightdeck.sandbox.rest import Rest
from flightdeck.sandbox.status import REASONS, ApiError, status_body

log = logging.getLogger(__name__)
_HEALTH = ("/healthz", "/livez", "/readyz")


class KubernetesApi:
    """The ASGI app of the API server port.

    Args:
        rest: the resource verbs.
        admin: the ``/sandbox/v1`` control API.
        faults: failures and delays injected into resource requests.
        address: ``host:port`` as advertised in ``/api``.
    """

    def __init__(self, rest: Rest, admin: Admin, faults: Faults, address: str) -> None:
        self.rest = rest
        self.admin = admin
        self.faults = faults
        self.address = address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request = await Request.read(scope, receive)
        try:
            await self._route(request, send)
        except ApiError as exc:
            await asgi.respond_json(send, exc.code, exc.status())
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.path)
            await asgi.respond_json(
                send, 500, status_body(500, f"sandbox error: {exc}", "InternalError")
            )

    async def _route(self, request: Request, send: Send) -> None:
        path = request.path.rstrip("/") or "/"
        if path.startswith(PREFIX.rstrip("/")):
            await self.admin.handle(request, send)
            return
        if request.method == "GET" and (document := self._document(path)) is not None:
            await asgi.respond_json(send, 200, document)
            return
        if request.method == "GET" and path == "/openapi/v2":
            await asgi.respond(send, 200, openapi.v2_protobuf(), openapi.V2_CONTENT_TYPE)
            return
        if request.method == "GET" and path in _HEALTH:
            await asgi.respond(send, 200, b"ok", asgi.TEXT)
            return
        target = routes.resolve(path)
        if target is None:
            raise ApiError(
                404,
                "the server could not find the requested resource",
                "NotFound",
                {
                    "causes": [
                        {"reason": "UnexpectedServerResponse", "message": "404 page not found"}
                    ]
                },
            )
        await self._suffer_faults()
        await self.rest.handle(request, send, target)

    def _document(self, path: str) -> dict[str, object] | None:
        """Discovery and OpenAPI documents, or None when the path is not one."""
        if path == "/version":
            return discovery.version()
        if path == "/api":
            return discovery.core_versions(self.address)
        if path == "/apis":
            return discovery.groups()
        if path == "/openapi/v3":
            return openapi.index()
        if path.startswith("/openapi/v3/"):
            split = routes.group_version("/" + path[len("/openapi/v3/") :])
            return openapi.document(split[0], split[1]) if split and not split[2] else None
        split = routes.group_version(path)
        if split is not None and not split[2]:
            return discovery.resource_list(split[0], split[1])
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "apis":
            return discovery.group(parts[1])
        return None

    async def _suffer_faults(self) -> None:
        if (delay := self.faults.next_delay()) > 0:
            await asyncio.sleep(delay)
        if (code := self.faults.next_failure()) is not None:
            reason = REASONS.get(code, "InternalError")
            raise ApiError(code, f"injected fault: {reason}", reason)
