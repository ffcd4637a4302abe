"""The blue/green objects Apply and Switch send to the cluster."""

from __future__ import annotations

import pytest

from flightdeck.events.deployments import Colour
from flightdeck.orchestrator.domain import manifests
from tests.unit.orchestrator.story import request

pytestmark = pytest.mark.unit


def rendered(previous: Colour | None = None) -> dict[tuple[str, str], dict]:
    objects = manifests.render(
        request(env={"B": "2", "A": "1"}),
        Colour.GREEN,
        previous,
        digest="sha256:abc",
        domain="localhost",
        min_ready_s=3,
    )
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_the_colour_deployment_selects_by_app_and_colour_and_carries_the_deployment_id() -> None:
    d = rendered()[("Deployment", "web-green")]
    assert d["spec"]["selector"] == {"matchLabels": {"app": "web", "colour": "green"}}
    template = d["spec"]["template"]
    assert template["metadata"]["labels"] == {
        "app": "web",
        "colour": "green",
        "flightdeck.io/deployment": "dep-1",
    }
    assert template["metadata"]["annotations"] == {"flightdeck.io/image-digest": "sha256:abc"}
    container = template["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert d["spec"]["minReadySeconds"] == 3


def test_apply_never_names_the_app_service_selector() -> None:
    assert "selector" not in rendered()[("Service", "web")]["spec"]
    assert rendered()[("Service", "web-green")]["spec"]["selector"] == {
        "app": "web",
        "colour": "green",
    }


def test_switch_applies_only_the_selector() -> None:
    assert manifests.switch("apps", "web", Colour.GREEN) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"selector": {"app": "web", "colour": "green"}},
    }


def test_the_ingress_routes_the_app_host_and_each_living_colour() -> None:
    rules = rendered(previous=Colour.BLUE)[("Ingress", "web")]["spec"]["rules"]
    routes = {r["host"]: r["http"]["paths"][0]["backend"]["service"]["name"] for r in rules}
    assert routes == {
        "web.localhost": "web",
        "web-blue.localhost": "web-blue",
        "web-green.localhost": "web-green",
    }
    first = rendered()[("Ingress", "web")]["spec"]["rules"]
    assert [r["host"] for r in first] == ["web.localhost", "web-green.localhost"]
