"""Real stdout and stderr through ``flightdeck up``: the sandbox's node writes its pods'
output as CRI files, the relay tails them (node mode, the embedded default), and the
gateway's ``?sources=`` filter gives exactly what the app wrote to that stream. One
deployment's history joins its stages, its pods and their log lines by correlation id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from flightdeck.events import Codec, streams, subjects
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_permissions import ADMIN
from tests.e2e.system import System
from tests.e2e.test_pipeline import deploy, follow
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

HELLO = "INFO diagnostics go to stderr"  # every sandbox container's known stderr line


@pytest.fixture(scope="module")
async def store(system: System) -> AsyncIterator[EventStore]:
    nc = await connect(system.nats_config(ADMIN), "e2e-node-logs", user=ADMIN)
    yield JetStreamEventStore(nc, Codec("/flightdeck/e2e"))
    await nc.close()


async def page(system: System, app: str, source: str) -> list[dict[str, Any]]:
    async with system.client() as http:
        reply = await http.get(f"/api/v1/logs/{app}", params={"sources": source, "limit": 1000})
    assert reply.status_code == 200, reply.text
    return list(reply.json()["data"]["items"])


async def written_to(system: System, app: str, stream: str) -> dict[str, set[str]]:
    """What each of the app's pods wrote to ``stream``, as the sandbox itself serves it."""
    out: dict[str, set[str]] = {}
    async with httpx.AsyncClient(base_url=system.sandbox["k8s_url"]) as http:
        pods = await http.get(
            "/api/v1/namespaces/default/pods", params={"labelSelector": f"app={app}"}
        )
        for pod in pods.json()["items"]:
            name = pod["metadata"]["name"]
            log = await http.get(
                f"/api/v1/namespaces/default/pods/{name}/log",
                params={"container": "app", "stream": stream.capitalize()},
            )
            out[name] = set(log.text.splitlines())
    return out


async def test_sources_stderr_gives_what_the_app_wrote_to_stderr_not_a_guess(
    system: System, store: EventStore
) -> None:
    await system.push_image("talk", "v1")
    dep = await deploy(system, "talk", "v1")
    assert (await follow(system, dep))[-1][1] == "done"

    async def hello_from_both_pods() -> list[dict[str, Any]] | None:
        items = await page(system, "talk", "stderr")
        return items if len({i["pod"] for i in items if i["text"] == HELLO}) >= 2 else None

    stderr = await eventually(hello_from_both_pods, within=60, what="each pod's stderr line")
    stdout = await page(system, "talk", "stdout")
    truth = {stream: await written_to(system, "talk", stream) for stream in ("stderr", "stdout")}

    assert stderr and all(i["source"] == "stderr" and not i["sourceInferred"] for i in stderr)
    assert all(i["text"] in truth["stderr"][i["pod"]] for i in stderr), "only stderr lines"
    assert stdout and all(i["source"] == "stdout" and not i["sourceInferred"] for i in stdout)
    assert all(i["text"] in truth["stdout"][i["pod"]] for i in stdout), "only stdout lines"
    assert {i["level"] for i in stderr if i["text"] == HELLO} == {"INFO"}  # a fact, not a guess
    assert any(i["text"] == "INFO listening on :8080" for i in stdout)

    # one deployment's history: stages, probes, pods and lines share its correlation id
    stages = await store.read(subjects.deployment(dep))
    pods = await store.read_latest("fd.evt.k8s.default.pod.*")
    ours = [r for r in pods if r.event.labels.get("flightdeck.io/deployment") == dep]
    lines = [
        r
        async for chunk in store.read_chunks(streams.LOGS, "fd.evt.log.default.talk.>")
        for r in chunk.events
    ]
    probes = [
        r
        async for chunk in store.read_chunks(streams.PROBES, subjects.ALL_PROBES)
        for r in chunk.events
        if r.correlation_id == dep
    ]
    assert {r.correlation_id for r in stages} == {dep}
    assert probes, "the verify stage's probes carry the deployment's correlation id"
    assert len(ours) >= 2 and {r.correlation_id for r in ours} == {dep}
    assert lines and {r.correlation_id for r in lines} == {dep}
