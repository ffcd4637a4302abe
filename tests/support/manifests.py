"""Kubernetes objects the tests and benchmarks create, as plain JSON dicts (what a
client would send)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def deployment(
    name: str,
    image: str,
    *,
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    containers: tuple[str, ...] = ("app",),
    log_rate: float | None = None,
    namespace: str | None = None,
    progress_deadline: int | None = None,
) -> Obj:
    """An ``apps/v1`` Deployment of ``replicas`` pods running ``image`` in each of
    ``containers``, labelled ``app: name`` unless ``labels`` says otherwise.

    Args:
        env: environment variables of every container.
        log_rate: lines a second each container logs (the sandbox's ``SANDBOX_LOG_RATE``).
        namespace: written into the metadata (else the one it is created in).
        progress_deadline: ``progressDeadlineSeconds``.
    """
    labels = labels or {"app": name}
    variables = {**(env or {}), **({"SANDBOX_LOG_RATE": str(log_rate)} if log_rate else {})}
    spec: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": container,
                        "image": image,
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "env": [{"name": k, "value": v} for k, v in variables.items()],
                    }
                    for container in containers
                ]
            },
        },
    }
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    metadata: Obj = {"name": name, "labels": labels}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def service(name: str, selector: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def ingress(name: str, host: str, service_name: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": {
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": service_name, "port": {"number": 80}}
                                },
                            }
                        ]
                    },
                }
            ]
        },
    }


def pod(name: str, image: str, labels: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }
