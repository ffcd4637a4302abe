"""Operating a deployed app through the whole system (issue 14, ADR 0022): deploy → scale
to 3 → restart one pod → rollout restart → rollback → cancel a second deployment
mid-rollout; the watcher's events and kubectl show each effect, ``flightdeck replay
--app`` each action with its actor (the dev key's name, ``dev``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from flightdeck.events import Codec
from flightdeck.events.cluster import PodObserved
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_permissions import ADMIN
from tests.e2e.system import System
from tests.e2e.test_cross_tenant import cluster
from tests.e2e.test_pipeline import deploy, follow, result
from tests.integration.sandbox.kubectl import Kubectl
from tests.support.cli import flightdeck
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

APP = "opsdemo"


@pytest.fixture(scope="module")
async def store(system: System) -> AsyncIterator[EventStore]:
    nc = await connect(system.nats_config(ADMIN), "e2e-ops-tests", user=ADMIN)
    yield JetStreamEventStore(nc, Codec("/flightdeck/e2e"))
    await nc.close()


async def live_pods(store: EventStore, colour: str) -> dict[str, bool]:
    """The app's pods of ``colour`` as the k8s-watcher last reported them: name → ready
    (deleted and terminating pods left out)."""
    latest = await store.read_latest("fd.evt.k8s.default.pod.*")
    return {
        r.event.name: r.event.ready
        for r in latest
        if isinstance(r.event, PodObserved)
        and r.event.labels.get("app") == APP
        and r.event.labels.get("colour") == colour
        and not r.event.terminating
    }


async def ready_set(store: EventStore, colour: str, n: int) -> set[str] | None:
    pods = await live_pods(store, colour)
    return set(pods) if len(pods) == n and all(pods.values()) else None


async def act(system: System, path: str, **body: Any) -> dict[str, Any]:
    async with system.client() as http:
        answer = await http.post(path, json=body or None)
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()["data"]
    assert data["requestedBy"] == "dev"
    return data


def kubectl_for(system: System) -> Kubectl | None:
    if shutil.which("kubectl") is None:
        return None
    return Kubectl(system.state / "sandbox" / "kubeconfig", system.state / "kubectl-cache")


async def test_deploy_scale_restart_rollback_and_cancel(system: System, store: EventStore) -> None:
    for tag in ("v1", "v2", "v3"):
        await system.push_image(APP, tag)
    for tag in ("v1", "v2"):
        dep = await deploy(system, APP, tag)
        assert (await follow(system, dep))[-1][1] == "done"
        await result(system, dep)  # released: green serves v2, blue is scaled down
    kubectl = kubectl_for(system)

    # scale to 3: three green pods Ready, as the watcher and kubectl see them
    scaled = await act(system, f"/api/v1/apps/{APP}/scale", replicas=3)
    assert (scaled["status"], scaled["detail"]["deployment"]) == ("SUCCEEDED", f"{APP}-green")
    three = await eventually(lambda: ready_set(store, "green", 3), what="3 ready green pods")
    if kubectl is not None:
        out = await kubectl.ok("get", "pods", "-l", f"app={APP},colour=green", "--no-headers")
        listed = {line.split()[0] for line in out.splitlines() if "Running" in line}
        assert listed == three
    # and the app's own view (what the app stream starts from) agrees
    view = await eventually(lambda: _app_view_ready(system, three), what="the app view's 3 pods")
    assert view["liveColour"] == "green" and view["replicas"]["desired"] == 3

    # restart one pod: a new pod replaces it; old and new pods' lines in the log history
    victim = sorted(three)[0]
    restarted = await act(system, f"/api/v1/apps/{APP}/pods/{victim}/restart")
    assert restarted["status"] == "SUCCEEDED"
    after = await eventually(
        lambda: _replaced(store, three, victim), what="a replacement for the restarted pod"
    )
    (newcomer,) = after - three
    for pod in (victim, newcomer):
        await eventually(lambda pod=pod: _log_lines(system, pod), what=f"{pod}'s log lines")
        lines = await _log_lines(system, pod)
        keys = [(line["container"], line["time"], line["text"]) for line in lines]
        assert len(keys) == len(set(keys)), f"a log line of {pod} appears twice"

    # rollout restart: every green pod replaced by a new one
    rollout = await act(system, f"/api/v1/apps/{APP}/restart")
    assert rollout["status"] == "SUCCEEDED" and rollout["detail"]["restartedAt"]
    await eventually(lambda: _all_new(store, after), what="a new set of 3 green pods", within=90)

    # rollback: a deployment of its own, back to v1 on blue
    rollback = await act(system, f"/api/v1/apps/{APP}/rollback")
    assert rollback["status"] == "SUCCEEDED" and rollback["deploymentId"]
    assert (await follow(system, rollback["deploymentId"]))[-1][1] == "done"
    back = await result(system, rollback["deploymentId"])
    assert (back["phase"], back["colour"]) == ("SUCCEEDED", "blue")
    assert back["image"].endswith(f"{APP}:v1")

    # cancel a second deployment mid-rollout: CANCELLED, its colour removed, blue serves
    second = await deploy(system, APP, "v3")
    cancelled: dict[str, Any] = {}

    async def cancel_at_rollout(kind: str, data: dict[str, Any]) -> None:
        if kind == "stage" and data.get("stage") == "rollout" and not cancelled:
            cancelled.update(await act(system, f"/api/v1/deploy/{second}/cancel"))

    seen = await follow(system, second, cancel_at_rollout)
    assert cancelled["status"] == "SUCCEEDED", cancelled
    assert seen[-1][1] == "error"
    body = await result(system, second)
    assert (body["status"], body["phase"], body["servingColour"]) == ("FAILED", "CANCELLED", "blue")
    await eventually(lambda: _none_left(store, "green"), what="the green pods to go")
    url = httpx.URL(back["url"])  # the app's host, through the sandbox's ingress port
    async with httpx.AsyncClient(timeout=30) as http:
        served = await http.get(
            url.copy_with(host="127.0.0.1"), headers={"Host": url.netloc.decode()}
        )
    assert served.status_code == 200, served.text
    if kubectl is not None:
        replicas = await kubectl.ok(
            "get", "deploy", f"{APP}-green", "-o", "jsonpath={.spec.replicas}"
        )
        assert replicas == "0"

    # the audit trail: each action with who did it
    replay = await flightdeck("replay", "--app", APP, env=system.env)
    assert replay.code == 0, replay.err
    asked = [line for line in replay.out.splitlines() if "ops.action_requested" in line]
    assert len(asked) == 5 and all("dev" in line for line in asked)
    for action in ("scale", "restart_pod", "restart_rollout", "rollback", "cancel"):
        assert f"ops {action} " in replay.out


async def _replaced(store: EventStore, before: set[str], victim: str) -> set[str] | None:
    now = await ready_set(store, "green", 3)
    return now if now is not None and victim not in now and len(now - before) == 1 else None


async def _all_new(store: EventStore, before: set[str]) -> bool:
    now = await ready_set(store, "green", 3)
    return now is not None and now.isdisjoint(before)


async def _none_left(store: EventStore, colour: str) -> bool:
    return not await live_pods(store, colour)


async def _app_view_ready(system: System, pods: set[str]) -> dict[str, Any] | None:
    """``GET /api/v1/apps/{app}`` once it shows exactly ``pods`` Ready (and 3 ready replicas)."""
    async with system.client() as http:
        view = (await http.get(f"/api/v1/apps/{APP}")).json()["data"]
    ready = {p["name"] for p in view["pods"] if p["ready"] and p["colour"] == "green"}
    return view if ready == pods and view["replicas"]["ready"] == len(pods) else None


async def _log_lines(system: System, pod: str) -> list[dict[str, Any]]:
    """The pod's lines in the app's log history (from its start: ``after=0``)."""
    async with system.client() as http:
        page = await http.get(
            f"/api/v1/logs/{APP}", params={"limit": 1000, "after": "0", "pods": pod}
        )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["data"]["items"]
    return items


async def test_bad_ops_input_is_one_json_error_and_changes_nothing(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Unknown pod/app (404), replicas -1 or 51 (400 naming it), another tenant's app (404,
    as unknown), no ops scope (403), a restart while a deployment runs (409 APP_BUSY), a
    retried restart (same action): each one JSON error or the same 202, cluster unchanged."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed on this machine (CI installs it from Debian's)")
    kubectl = Kubectl(
        system.state / "sandbox" / "kubeconfig",
        tmp_path_factory.mktemp("kubectl-ops") / "cache",
    )
    app = "opsbad"
    await system.push_image(app, "v1")
    dep = await deploy(system, app, "v1")
    assert (await follow(system, dep))[-1][1] == "done"
    await result(system, dep)
    env = {**system.env}
    made = await flightdeck("tenants", "create", "ops-other", "--namespaces", "ops-other", env=env)
    assert made.code == 0, made.err
    keys = {}
    for name, tenant, scope in (("other", "ops-other", "admin"), ("deployer", "dev", "deploy")):
        minted = await flightdeck(
            "tokens", "create", "--tenant", tenant, "--scope", scope, "--name", name, env=env
        )
        assert minted.code == 0, minted.err
        keys[name] = next(w for w in minted.out.split() if w.startswith("fdk_"))
    before = await cluster(kubectl)

    async with system.client() as http:
        answers = {
            "unknown app": await http.post("/api/v1/apps/nosuchapp/restart"),
            "unknown pod": await http.post(f"/api/v1/apps/{app}/pods/{app}-blue-zz/restart"),
            "replicas -1": await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": -1}),
            "replicas 51": await http.post(f"/api/v1/apps/{app}/scale", json={"replicas": 51}),
        }
    async with system.client(keys["other"]) as other:
        theirs = await other.post(f"/api/v1/apps/{app}/restart")
        unknown = await other.post("/api/v1/apps/zzzzzz/restart")
    async with system.client(keys["deployer"]) as deployer:
        answers["no scope"] = await deployer.post(f"/api/v1/apps/{app}/restart")

    expected = {
        "unknown app": (404, "APP_NOT_FOUND"),
        "unknown pod": (404, "POD_NOT_FOUND"),
        "replicas -1": (400, "VALIDATION_ERROR"),
        "replicas 51": (400, "VALIDATION_ERROR"),
        "no scope": (403, "FORBIDDEN"),
    }
    for what, response in answers.items():
        body = response.json()
        assert (response.status_code, body["errorCode"]) == expected[what], (what, body)
        assert set(body) >= {"timestamp", "status", "error", "message", "errorCode", "path"}
    assert "replicas" in answers["replicas 51"].json()["message"]
    assert theirs.status_code == unknown.status_code == 404
    theirs_body, unknown_body = theirs.json(), unknown.json()
    for body, name in ((theirs_body, app), (unknown_body, "zzzzzz")):
        body.pop("timestamp")
        body["path"] = body["path"].replace(name, "X")
        body["message"] = body["message"].replace(name, "X")
    assert theirs_body == unknown_body
    assert await cluster(kubectl) == before, "refused ops changed the cluster"

    # a restart while a deployment of the app runs: APP_BUSY; a retried restart: one action
    await system.push_image(app, "v2", delay_s=5.0)
    running = await deploy(system, app, "v2")
    async with system.client() as http:
        busy = await http.post(f"/api/v1/apps/{app}/restart")
    assert (busy.status_code, busy.json()["errorCode"]) == (409, "APP_BUSY")
    assert running in busy.json()["message"]
    assert (await follow(system, running))[-1][1] == "done"
    await result(system, running)
    key = {"Idempotency-Key": f"restart-{running}"}
    async with system.client() as http:
        first = await http.post(f"/api/v1/apps/{app}/restart", headers=key)
        again = await http.post(f"/api/v1/apps/{app}/restart", headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["data"]["actionId"] == again.json()["data"]["actionId"]
    assert first.json()["data"]["requestedAt"] == again.json()["data"]["requestedAt"]
