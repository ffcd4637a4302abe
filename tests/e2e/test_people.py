"""The CLI for people against the whole system, and a system that keeps its cluster.

``flightdeck up`` twice in a row on one state dir: before, the second run found an
empty sandbox while the history remembered the previous colour, so the next
deployment reported "old colour: no answer (error rate 100%)". Then
``flightdeck up --fresh --yes`` starts from nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import assert_stop_reported
from tests.e2e.system import System
from tests.support.cli import Result, flightdeck
from tests.support.processes import processes_mentioning
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def cli_env(system: System) -> dict[str, str]:
    return {
        **system.env,
        "FLIGHTDECK_URL": system.gateway_url,
        "FLIGHTDECK_TOKEN": system.token,
    }


async def people(system: System, *args: str) -> Result:
    return await flightdeck(*args, env=cli_env(system), timeout=300)


async def stop(system: System) -> None:
    assert_stop_reported(system, await system.stop())


async def _shop_pods_ready(system: System, count: int = 2) -> list[str] | None:
    async with httpx.AsyncClient(base_url=system.sandbox["k8s_url"], timeout=10) as http:
        pods = (await http.get("/api/v1/namespaces/default/pods")).json()["items"]
    ready = [
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith("shop-blue-")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    ]
    return ready if len(ready) == count else None


async def _log_lines(system: System) -> list[dict[str, Any]] | None:
    shown = await people(system, "logs", "shop", "--format", "json", "--tail", "5")
    assert shown.code == 0, shown.err
    lines = [json.loads(line) for line in shown.out.splitlines()]
    return lines or None


async def test_people_cli_and_a_cluster_kept_across_restarts_then_fresh(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = System(state=state, nats=None)
    await first.start()
    try:
        # the CLI for people: push an image, deploy it and wait, read status and logs
        pushed = await people(first, "image", "push", "shop:v1")
        assert pushed.code == 0, pushed.err
        deployed = await people(
            first, "deploy", "shop", "--image", "shop:v1", "--replicas", "2", "--wait"
        )
        assert deployed.code == 0, deployed.out + deployed.err
        for stage in ("artifact", "apply", "rollout", "expose", "verify", "switch"):
            assert f"{stage:<9} SUCCEEDED" in deployed.out, deployed.out
        assert "SUCCEEDED" in deployed.out and "done" in deployed.out
        status = json.loads((await people(first, "status", "shop", "--format", "json")).out)
        assert (status["latest"]["status"], status["latest"]["phase"]) == ("COMPLETED", "SUCCEEDED")
        assert status["latest"]["colour"] == "blue"
        lines = await eventually(lambda: _log_lines(first), what="log lines", within=60)
        assert {line["pod"][: len("shop-blue-")] for line in lines} == {"shop-blue-"}
        url = status["latest"]["url"]

        # ops over the API: the live colour scaled up and back, a pod restarted; refusals
        # are one line and exit 1, and replay names who did each
        scaled = await people(first, "scale", "shop", "3")
        assert scaled.code == 0 and "done" in scaled.out, scaled.out + scaled.err
        await eventually(lambda: _shop_pods_ready(first, 3), what="3 pods", within=60)
        back = await people(first, "scale", "shop", "2", "--format", "json")
        assert json.loads(back.out)["status"] == "SUCCEEDED", back.out + back.err
        await eventually(lambda: _shop_pods_ready(first, 2), what="2 pods", within=60)
        unknown = await people(first, "restart", "shop", "--pod", "shop-blue-nope")
        assert unknown.code == 1 and "POD_NOT_FOUND" in unknown.err, unknown.out + unknown.err
        assert len(unknown.err.strip().splitlines()) == 1
        replayed = await people(first, "replay", "--app", "shop")
        assert replayed.code == 0 and "scale" in replayed.out, replayed.out + replayed.err

        await people(first, "image", "push", "shop:v2-unhealthy")
        failed = await people(first, "deploy", "shop", "--image", "shop:v2-unhealthy", "--wait")
        assert failed.code == 1, failed.out + failed.err
        assert "HEALTH_CHECK_FAILED" in failed.err
        assert len(failed.err.strip().splitlines()) == 1
    finally:
        await stop(first)

    # a second `flightdeck up` on the same state: the cluster is as it was
    second = System(state=state, nats=None, nats_port=first.nats_port)
    await second.start()
    try:
        before = await eventually(lambda: _shop_pods_ready(second), what="shop's pods", within=60)
        # the app's URL still answers: the same ingress port, the pods serving again
        assert httpx.URL(url).port == httpx.URL(second.sandbox["ingress_url"]).port
        async with httpx.AsyncClient(base_url=second.sandbox["ingress_url"], timeout=10) as http:
            answer = await http.get("/", headers={"Host": httpx.URL(url).host})
        assert answer.status_code == 200, answer.text
        assert answer.headers.get("X-Sandbox-Color") == "blue"
        deployed = await people(second, "deploy", "shop", "--image", "shop:v1", "--wait")
        assert deployed.code == 0, deployed.out + deployed.err
        latest = json.loads((await people(second, "status", "shop", "--format", "json")).out)
        result = latest["latest"]
        assert (result["colour"], result["previousColour"]) == ("green", "blue")
        assert result["oldColour"]["errorRate"] == 0.0, result  # it answered: it still exists
        assert result["oldColour"]["latencyP50Ms"] is not None
        assert before
    finally:
        await stop(second)

    # --fresh --yes: no history, no read model, an empty cluster; the dev key is kept
    token = (state / "dev-token").read_text()
    third = System(state=state, nats=None, nats_port=first.nats_port)
    await third.start(10.0, "--fresh", "--yes")
    try:
        listed = await people(third, "status", "--format", "json")
        assert listed.code == 0, listed.err
        assert listed.out.strip() == ""
        unknown = await people(third, "status", "shop")
        assert unknown.code == 1 and "no deployment or app named 'shop'" in unknown.err
        async with httpx.AsyncClient(base_url=third.sandbox["k8s_url"], timeout=10) as http:
            deployments = (await http.get("/apis/apps/v1/deployments")).json()["items"]
        assert deployments == []
        assert third.token == token.strip()
    finally:
        await stop(third)
    assert processes_mentioning(str(state)) == []
