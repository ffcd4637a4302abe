"""Writes to the cluster: server-side apply, the selector switch, scaling to zero.

Every write is idempotent (server-side apply with a fixed field manager and
``force``; a scale to zero), so a successor replica may repeat one safely.
Errors are sorted into permanent (the request itself is wrong: 4xx but
conflicts and throttling) and transient (everything else: try again).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from flightdeck.orchestrator.domain.manifests import Manifest
from flightdeck.orchestrator.domain.ops import RESTARTED_AT
from flightdeck.orchestrator.domain.writes import KubeWriteError

APPLY_PATCH = "application/apply-patch+yaml"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
_TRANSIENT_STATUSES = frozenset({408, 409, 429})


class Kubernetes:
    """The orchestrator's writes (:class:`~flightdeck.orchestrator.service_layer.ports.ClusterWrites`),
    through kubernetes-asyncio."""

    def __init__(self, api: client.ApiClient, timeout_s: float = 30.0) -> None:
        self._api = api
        self._timeout = timeout_s
        self._apps = client.AppsV1Api(api)
        self._core = client.CoreV1Api(api)
        self._net = client.NetworkingV1Api(api)

    async def close(self) -> None:
        await self._api.close()

    async def apply(self, manifest: Manifest, manager: str) -> None:
        """Server-side apply ``manifest`` as ``manager`` (creating it if missing)."""
        patchers: dict[str, Callable[..., Awaitable[Any]]] = {
            "Deployment": self._apps.patch_namespaced_deployment,
            "Service": self._core.patch_namespaced_service,
            "Ingress": self._net.patch_namespaced_ingress,
        }
        kind, meta = manifest["kind"], manifest["metadata"]
        patch = patchers[kind]
        await self._call(
            f"apply {kind} {meta['name']}",
            patch(
                meta["name"],
                meta["namespace"],
                manifest,
                field_manager=manager,
                force=True,
                _content_type=APPLY_PATCH,
                _request_timeout=self._timeout,
            ),
        )

    async def scale_to_zero(self, namespace: str, name: str) -> None:
        """Scale a Deployment to zero replicas; a missing one is already at zero."""
        try:
            await self._call(
                f"scale {name}",
                self._apps.patch_namespaced_deployment_scale(
                    name, namespace, {"spec": {"replicas": 0}}, _request_timeout=self._timeout
                ),
            )
        except KubeWriteError as exc:
            if "404" not in str(exc):
                raise

    async def delete_pod(self, namespace: str, name: str) -> None:
        """Delete a pod (its ReplicaSet replaces it), as ``kubectl delete pod`` does."""
        await self._call(
            f"delete pod {name}",
            self._core.delete_namespaced_pod(name, namespace, _request_timeout=self._timeout),
        )

    async def restart_rollout(self, namespace: str, name: str, restarted_at: str) -> None:
        """``kubectl rollout restart``: a strategic merge patch of the pod template's
        ``restartedAt`` annotation, so the Deployment rolls out new pods."""
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}}
        # the client takes _content_type through **kwargs, which its stubs do not declare
        patch_deployment: Callable[..., Awaitable[Any]] = self._apps.patch_namespaced_deployment
        await self._call(
            f"restart deployment {name}",
            patch_deployment(
                name,
                namespace,
                patch,
                _content_type=STRATEGIC_MERGE,
                _request_timeout=self._timeout,
            ),
        )

    async def scale(self, namespace: str, name: str, replicas: int) -> None:
        """``kubectl scale``: a patch of the ``scale`` subresource."""
        await self._call(
            f"scale deployment {name}",
            self._apps.patch_namespaced_deployment_scale(
                name, namespace, {"spec": {"replicas": replicas}}, _request_timeout=self._timeout
            ),
        )

    async def _call(self, what: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ApiException as exc:
            status = int(exc.status or 0)
            permanent = 400 <= status < 500 and status not in _TRANSIENT_STATUSES
            raise KubeWriteError(
                f"{what}: {status} {_reason(exc)}".strip(), permanent=permanent, status=status
            ) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise KubeWriteError(f"{what}: {exc!r}", permanent=False) from exc


def _reason(exc: ApiException) -> str:
    """The API server's ``Status`` reason and message (``NotFound: pods "x" not found``),
    else the HTTP reason phrase."""
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (TypeError, ValueError):
        body = {}
    if isinstance(body, dict) and body.get("reason"):
        message = body.get("message")
        return f"{body['reason']}: {message}" if message else str(body["reason"])
    return str(exc.reason or "")
