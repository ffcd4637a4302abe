"""Reading pods/log with kubernetes-asyncio, as raw lines.

The body is read in whatever chunks arrive and split on newlines here, rather
than one ``readline`` per line: a busy container sends thousands of lines per
chunk. With ``_preload_content=False`` the client does not check the status,
so this module does, and turns "not there (yet)" into
:class:`~flightdeck.log_relay.domain.logreads.LogUnavailable` and a failed
connection into :class:`~flightdeck.log_relay.domain.logreads.LogStreamBroken`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
from kubernetes_asyncio import client

from flightdeck.log_relay.domain.logreads import LogRequest, LogStreamBroken, LogUnavailable
from flightdeck.log_relay.domain.selection import ContainerKey


class PodLogs:
    """Opens pods/log streams.

    Args:
        api: the configured client.
        connect_timeout_s: to connect and get the response headers.
        idle_timeout_s: a followed stream silent this long is closed (and resumed by the
            caller), so a dead connection is noticed even without TCP telling us.
    """

    def __init__(self, api: client.ApiClient, connect_timeout_s: float, idle_timeout_s: float):
        self._api = api
        self._core = client.CoreV1Api(api)
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout_s, sock_read=idle_timeout_s
        )

    async def close(self) -> None:
        await self._api.close()

    @contextlib.asynccontextmanager
    async def open(
        self, key: ContainerKey, request: LogRequest
    ) -> AsyncIterator[AsyncIterator[list[bytes]]]:
        """The log of ``key`` as lists of lines (no newline), one list per chunk read.

        Raises:
            LogUnavailable: the API answered 4xx (container waiting, pod gone).
            LogStreamBroken: the connection failed, opening or while the body is read.
        """
        optional: dict[str, Any] = {
            name: value
            for name, value in (
                ("tail_lines", request.tail_lines),
                ("since_seconds", request.since_seconds),
            )
            if value is not None
        }
        try:
            reply: Any = await self._core.read_namespaced_pod_log(
                key.pod,
                key.namespace,
                container=key.container,
                follow=request.follow,
                previous=request.previous,
                timestamps=True,
                _preload_content=False,
                _request_timeout=self._timeout,
                **optional,
            )
        except aiohttp.ClientError as exc:
            raise LogStreamBroken(repr(exc)) from exc
        response = cast(aiohttp.ClientResponse, reply)  # the raw response, not preloaded
        try:
            if response.status >= 400:
                body = (await response.read()).decode("utf-8", "replace")
                raise LogUnavailable(response.status, body[:500])
            yield _lines(response.content)  # the caller reads it inside this context
        except aiohttp.ClientError as exc:
            raise LogStreamBroken(repr(exc)) from exc
        finally:
            response.release()


async def _lines(content: aiohttp.StreamReader) -> AsyncIterator[list[bytes]]:
    partial = b""
    async for chunk in content.iter_any():
        lines = chunk.split(b"\n")
        if partial:
            lines[0] = partial + lines[0]
        partial = lines.pop()
        if lines:
            yield lines
    if partial:
        yield [partial]
