"""Listing and watching the cluster with kubernetes-asyncio, as raw JSON.

Objects stay plain dicts (no model classes): the watcher only reads a few
fields, and the pure observation functions are tested on JSON. A watch that
the server ends (timeout, dropped connection) simply ends; a ``410 Gone``
raises :class:`~flightdeck.k8s_watcher.domain.failures.Expired` so the caller
re-lists; an error answer, or any other failure of the client library, is
raised as :class:`~flightdeck.k8s_watcher.domain.failures.ClusterUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from flightdeck.k8s_watcher.domain.failures import ClusterUnavailable, Expired

Obj = dict[str, Any]


@contextlib.contextmanager
def _unavailable(*, watching: bool = False) -> Iterator[None]:
    """The client library's errors as :class:`ClusterUnavailable`; a watch's 410 as
    :class:`Expired`."""
    try:
        yield
    except ApiException as exc:
        if watching and exc.status == 410:
            raise Expired(str(exc.reason)) from exc
        raise ClusterUnavailable(f"{exc.status} {exc.reason}") from exc
    except aiohttp.ClientError as exc:
        raise ClusterUnavailable(repr(exc)) from exc


class ClusterReader:
    def __init__(self, api: client.ApiClient, timeout_s: float = 30.0) -> None:
        self._api = api
        self._timeout = timeout_s
        apps, core, net = client.AppsV1Api(api), client.CoreV1Api(api), client.NetworkingV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._lists: dict[str, Callable[..., Awaitable[Any]]] = {
            "Deployment": apps.list_namespaced_deployment,
            "ReplicaSet": apps.list_namespaced_replica_set,
            "Pod": core.list_namespaced_pod,
            "Service": core.list_namespaced_service,
            "Ingress": net.list_namespaced_ingress,
            "Event": core.list_namespaced_event,
        }

    async def close(self) -> None:
        await self._api.close()

    async def list_objects(self, kind: str, namespace: str) -> tuple[list[Obj], str]:
        """Every object of ``kind`` in ``namespace``, and the list's resourceVersion."""
        with _unavailable():
            response = await self._lists[kind](
                namespace, _preload_content=False, _request_timeout=self._timeout
            )
            try:
                raw = await response.read()
                if response.status >= 400:  # not checked by the client without preloading
                    text = raw.decode("utf-8", "replace")[:300]
                    raise ClusterUnavailable(f"{response.status} listing {kind}: {text}")
                body = json.loads(raw)
            finally:
                response.release()
        return list(body.get("items") or []), str(body["metadata"].get("resourceVersion", ""))

    async def watch(
        self, kind: str, namespace: str, resource_version: str, timeout_s: int
    ) -> AsyncIterator[tuple[str, Obj]]:
        """``(type, object)`` changes after ``resource_version`` until the server ends the watch.

        BOOKMARK events are passed on (their object carries only a resourceVersion).
        """
        stream = watch.Watch(return_type="object")
        try:
            with _unavailable(watching=True):
                async for event in stream.stream(
                    self._lists[kind],
                    namespace=namespace,
                    resource_version=resource_version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=timeout_s,
                    _request_timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout_s + 30),
                ):
                    yield str(event["type"]), event["raw_object"]
        finally:
            await stream.close()

    async def pod_metrics(self, namespace: str) -> list[Obj]:
        """``metrics.k8s.io`` PodMetrics of the namespace (``ClusterUnavailable`` without it)."""
        with _unavailable():
            body = await self._custom.list_namespaced_custom_object(
                "metrics.k8s.io", "v1beta1", namespace, "pods", _request_timeout=self._timeout
            )
        return list(body.get("items") or [])
