"""The Kubernetes objects of one blue/green app, rendered as plain dicts.

Layout (ADR 0007): per colour a Deployment ``<app>-<colour>`` and a Service
``<app>-<colour>`` (to verify that colour before the switch); one app Service
``<app>`` whose selector alone moves at Switch; one Ingress ``<app>`` routing
``<app>.<domain>`` to the app Service and ``<app>-<colour>.<domain>`` to each
colour's Service (the preview hosts the prober checks).

The app Service's selector is owned by a second field manager, ``flightdeck-switch``:
Apply never names it, so applying a new colour cannot move traffic, and only
the Switch stage ever does.
"""

from __future__ import annotations

from typing import Any

from flightdeck.events.deployments import Colour, DeploymentRequested, colour_name

FIELD_MANAGER = "flightdeck"
SWITCH_MANAGER = "flightdeck-switch"

LABEL_APP = "app"
LABEL_COLOUR = "colour"
LABEL_DEPLOYMENT = "flightdeck.io/deployment"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_DIGEST = "flightdeck.io/image-digest"
SERVICE_PORT = 80

Manifest = dict[str, Any]


def app_host(app: str, domain: str) -> str:
    return f"{app}.{domain}"


def colour_host(app: str, colour: Colour, domain: str) -> str:
    """The preview host of one colour: its Service's name under the domain."""
    return f"{colour_name(app, colour)}.{domain}"


def render(
    request: DeploymentRequested,
    colour: Colour,
    previous: Colour | None,
    *,
    digest: str | None,
    domain: str,
    ingress_class: str | None = None,
    min_ready_s: int = 0,
    progress_deadline_s: int = 600,
) -> list[Manifest]:
    """Everything Apply server-side-applies, in order: Deployment, Services, Ingress."""
    return [
        deployment(request, colour, digest, min_ready_s, progress_deadline_s),
        colour_service(request, colour),
        app_service(request),
        ingress(request, colour, previous, domain, ingress_class),
    ]


def _labels(request: DeploymentRequested, colour: Colour | None = None) -> dict[str, str]:
    labels = {
        LABEL_APP: request.app,
        LABEL_DEPLOYMENT: request.deployment_id,
        LABEL_MANAGED_BY: "flightdeck",
    }
    if colour is not None:
        labels[LABEL_COLOUR] = colour.value
    return labels


def _meta(request: DeploymentRequested, name: str, colour: Colour | None = None) -> Manifest:
    return {"name": name, "namespace": request.namespace, "labels": _labels(request, colour)}


def deployment(
    request: DeploymentRequested,
    colour: Colour,
    digest: str | None,
    min_ready_s: int,
    progress_deadline_s: int,
) -> Manifest:
    selector = {LABEL_APP: request.app, LABEL_COLOUR: colour.value}
    container: Manifest = {
        "name": "app",
        "image": request.image,
        "ports": [{"name": "http", "containerPort": request.container_port}],
        "readinessProbe": {
            "httpGet": {"path": request.health_path, "port": request.container_port},
            "periodSeconds": 5,
        },
    }
    if request.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(request.env.items())]
    template_meta: Manifest = {"labels": {**selector, LABEL_DEPLOYMENT: request.deployment_id}}
    if digest:
        template_meta["annotations"] = {ANNOTATION_DIGEST: digest}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(request, colour_name(request.app, colour), colour),
        "spec": {
            "replicas": request.replicas,
            "minReadySeconds": min_ready_s,
            "progressDeadlineSeconds": progress_deadline_s,
            "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": {"containers": [container]}},
        },
    }


def _ports(request: DeploymentRequested) -> list[Manifest]:
    return [{"name": "http", "port": SERVICE_PORT, "targetPort": request.container_port}]


def colour_service(request: DeploymentRequested, colour: Colour) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(request, colour_name(request.app, colour), colour),
        "spec": {
            "selector": {LABEL_APP: request.app, LABEL_COLOUR: colour.value},
            "ports": _ports(request),
        },
    }


def app_service(request: DeploymentRequested) -> Manifest:
    """The app's Service without a selector: that field belongs to the Switch stage."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(request, request.app),
        "spec": {"ports": _ports(request)},
    }


def switch(namespace: str, app: str, colour: Colour) -> Manifest:
    """The one field Switch applies: the app Service's selector, now on ``colour``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "namespace": namespace},
        "spec": {"selector": {LABEL_APP: app, LABEL_COLOUR: colour.value}},
    }


def _rule(host: str, service: str) -> Manifest:
    backend = {"service": {"name": service, "port": {"number": SERVICE_PORT}}}
    return {
        "host": host,
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
    }


def ingress(
    request: DeploymentRequested,
    colour: Colour,
    previous: Colour | None,
    domain: str,
    ingress_class: str | None,
) -> Manifest:
    app = request.app
    rules = [_rule(app_host(app, domain), app)]
    for c in sorted({colour, *([previous] if previous else [])}):
        rules.append(_rule(colour_host(app, c, domain), colour_name(app, c)))
    spec: Manifest = {"rules": rules}
    if ingress_class:
        spec["ingressClassName"] = ingress_class
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(request, app),
        "spec": spec,
    }
