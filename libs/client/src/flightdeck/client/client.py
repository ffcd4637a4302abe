"""``Flightdeck``: the gateway's API as typed async calls, for people's tools and programs.

It talks HTTP only (never NATS): the same API, keys and tenancy as any client.
Every refusal is a :class:`~flightdeck.client.errors.FlightdeckError` carrying the
gateway's ``errorCode``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from flightdeck.client.errors import FlightdeckError, error_from_response
from flightdeck.client.models import (
    ActionAccepted,
    DeploymentAccepted,
    DeploymentResult,
    DeploymentSummary,
    LogPage,
    convert,
)
from flightdeck.client.streams import Reconnect, ResumableStream

URL_ENV = "FLIGHTDECK_URL"
TOKEN_ENV = "FLIGHTDECK_TOKEN"
DEPLOYMENT_TERMINAL_EVENTS = frozenset({"done", "error"})
_LIST_FILTERS = ("levels", "sources", "keywords", "pods", "containers")


class Flightdeck:
    """An async client of one gateway, with one API key.

    Args:
        url: the gateway's base URL, e.g. ``http://127.0.0.1:8080``.
        token: an API key (``fdk_…``), sent as ``Authorization: Bearer``.
        timeout: seconds for each ordinary request (streams wait as long as they must).
        reconnect: how streams are reopened after they drop.
        transport: an httpx transport to use instead of the network (tests, proxies).

    Use it as ``async with Flightdeck(url, token) as fd:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        reconnect: Reconnect | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.reconnect = reconnect or Reconnect()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "flightdeck-client"},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> Flightdeck:
        """A client from ``FLIGHTDECK_URL`` and ``FLIGHTDECK_TOKEN``.

        Raises:
            FlightdeckError: ``NOT_CONFIGURED`` when either is missing.
        """
        env = os.environ if env is None else env
        url, token = env.get(URL_ENV, "").strip(), env.get(TOKEN_ENV, "").strip()
        if not url or not token:
            missing = " and ".join(n for n, v in ((URL_ENV, url), (TOKEN_ENV, token)) if not v)
            raise FlightdeckError(0, "NOT_CONFIGURED", f"set {missing}")
        return cls(url, token, **kwargs)

    async def __aenter__(self) -> Flightdeck:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- requests --------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The ``data`` of the gateway's envelope; a :class:`FlightdeckError` on refusal."""
        try:
            response = await self._http.request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            raise FlightdeckError(
                0, "UNREACHABLE", f"cannot reach the gateway at {self.url}: {exc or type(exc)}"
            ) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            body = response.json()
        except ValueError:
            raise FlightdeckError(
                response.status_code, "BAD_ANSWER", "the gateway's answer is not JSON"
            ) from None
        return body.get("data", body) if isinstance(body, dict) else body

    # -- deployments -----------------------------------------------------------

    async def deploy(
        self,
        app: str,
        image_repository: str,
        image_tag: str,
        *,
        namespace: str | None = None,
        replicas: int | None = None,
        port: int | None = None,
        health_path: str | None = None,
        env: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> DeploymentAccepted:
        """Request a deployment of ``image_repository:image_tag`` as ``app``.

        Returns:
            The accepted request: its ``deployment_id`` names it everywhere else.
        """
        body: dict[str, Any] = {
            "appName": app,
            "imageRepository": image_repository,
            "imageTag": image_tag,
        }
        optional = {
            "namespace": namespace,
            "replicas": replicas,
            "port": port,
            "healthPath": health_path,
            "env": dict(env) if env is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = await self._request("POST", "/api/v1/deploy", json=body, headers=headers)
        result: DeploymentAccepted = convert(data, DeploymentAccepted)
        return result

    async def result(self, deployment_id: str) -> DeploymentResult:
        """One deployment as the read model has it (status, stages, colours, error)."""
        data = await self._request("GET", f"/api/v1/deploy/{_segment(deployment_id)}/result")
        result: DeploymentResult = convert(data, DeploymentResult)
        return result

    async def deployments(
        self,
        *,
        app: str | None = None,
        status: str | None = None,
        namespace: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[DeploymentSummary]:
        """The tenant's deployments, newest first, optionally of one app or status."""
        params = {"app": app, "status": status, "namespace": namespace}
        query: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        query |= {"limit": limit, "offset": offset}
        data = await self._request("GET", "/api/v1/deployments", params=query)
        items: list[DeploymentSummary] = convert(data.get("items", []), list[DeploymentSummary])
        return items

    def deployment_events(
        self, deployment_id: str, *, last_event_id: str | None = None
    ) -> ResumableStream:
        """A deployment's stages as they happen (history first), ending after ``done``/``error``.

        Reconnects with ``Last-Event-ID`` when the stream drops; stops on 204.
        """
        return ResumableStream(
            self._http,
            f"/api/v1/deploy/{_segment(deployment_id)}/events",
            last_event_id=last_event_id,
            terminal=DEPLOYMENT_TERMINAL_EVENTS,
            reconnect=self.reconnect,
        )

    # -- ops actions -----------------------------------------------------------

    async def _action(self, path: str, body: Any = None, key: str | None = None) -> ActionAccepted:
        headers = {"Idempotency-Key": key} if key else None
        data = await self._request(
            "POST", path, json=body if body is not None else {}, headers=headers
        )
        accepted: ActionAccepted = convert(data, ActionAccepted)
        return accepted

    async def cancel(
        self, deployment_id: str, *, idempotency_key: str | None = None
    ) -> ActionAccepted:
        """Stop a running deployment at its next step; its new colour is removed."""
        path = f"/api/v1/deploy/{_segment(deployment_id)}/cancel"
        return await self._action(path, key=idempotency_key)

    async def rollback(self, app: str, *, idempotency_key: str | None = None) -> ActionAccepted:
        """Switch ``app`` back to its previous colour (or redeploy its previous image)."""
        return await self._action(f"/api/v1/apps/{_segment(app)}/rollback", key=idempotency_key)

    async def scale(
        self, app: str, replicas: int, *, idempotency_key: str | None = None
    ) -> ActionAccepted:
        """Set the live colour's replica count (0 to 50)."""
        path = f"/api/v1/apps/{_segment(app)}/scale"
        return await self._action(path, {"replicas": replicas}, key=idempotency_key)

    async def restart(
        self, app: str, *, pod: str | None = None, idempotency_key: str | None = None
    ) -> ActionAccepted:
        """Restart the live colour's rollout, or only ``pod`` (deleted; its controller replaces it)."""
        path = f"/api/v1/apps/{_segment(app)}"
        path += f"/pods/{_segment(pod)}/restart" if pod else "/restart"
        return await self._action(path, key=idempotency_key)

    # -- logs ------------------------------------------------------------------

    async def logs(self, app: str, *, limit: int = 100, **filters: Any) -> LogPage:
        """A page of ``app``'s log history (filters: see :meth:`log_stream`)."""
        query = _log_query(filters) | {"limit": limit}
        data = await self._request("GET", f"/api/v1/logs/{_segment(app)}", params=query)
        page: LogPage = convert(data, LogPage)
        return page

    def log_stream(
        self, app: str, *, last_event_id: str | None = None, **filters: Any
    ) -> ResumableStream:
        """``app``'s log lines, history then live, resumed after a drop; runs until stopped.

        Args:
            app: the app's name.
            last_event_id: a log cursor to resume after.
            filters: the gateway's log filters, in Python spelling: ``namespace``,
                ``levels``, ``sources``, ``keywords``, ``include``, ``exclude``, ``pods``,
                ``containers`` (lists or single values), ``since``, ``until``, ``tail``.
        """
        return ResumableStream(
            self._http,
            f"/api/v1/logs/{_segment(app)}/stream",
            params=_log_query(filters),
            last_event_id=last_event_id,
            reconnect=self.reconnect,
        )


def _log_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None or value == [] or value == ():
            continue
        if name in _LIST_FILTERS and not isinstance(value, str):
            value = ",".join(str(v) for v in value)
        query[name] = value
    return query


def _segment(value: str) -> str:
    """A path segment as given, refused if it would change the path (``/``, empty, dots)."""
    if not value or "/" in value or value in (".", "..") or "?" in value or "#" in value:
        raise FlightdeckError(0, "VALIDATION_ERROR", f"not a valid name or id: {value!r}")
    return value
