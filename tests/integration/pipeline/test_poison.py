"""Garbage on every stream while deployments run: nothing wedges.

Undecodable messages land on every subject the running deployments touch
(their own subjects, their apps, images, cluster objects, probes, the
services' commands) and on every area of every stream, all the while the
deployments go through their stages. Every deployment still ends, each with
its own outcome, before its deadline; the read model and a gateway SSE client
see them end; the garbage is dead-lettered, not lost.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from httpx_sse import aconnect_sse

from flightdeck.events import envelope as ce
from flightdeck.events import streams, subjects
from flightdeck.events.apps import AppReleased
from flightdeck.events.deployments import Colour, colour_name
from flightdeck.eventstore import EventStore
from flightdeck.gateway import bootstrap
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.pipeline import render
from flightdeck.gateway.entrypoints.app import create_app
from flightdeck.readmodel.database import open_database
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.sealing import SecretsSettings
from tests.integration.gateway.conftest import create_token
from tests.integration.pipeline.harness import NAMESPACE, TENANT, Pipeline, summary
from tests.support.serving import free_port, serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

OVERALL_S = 60.0

# What a careless or hostile publisher might store: each kind takes another decoder path.
KINDS: list[tuple[bytes, dict[str, str]]] = [
    (b"\x00\xff\xfe not even text", {}),
    (b'{"unterminated": ', {}),
    (b"[" * 5000, {}),
    (b'{"type": "deploy.requested"}', {}),
    (b'{"type": "ecr.image_observed", "repository": "x", "tag": "y", "digest": "z"}', {}),
    (b'{"type": "deploy.stage_started", "stage": "verify"}', {ce.CE_TIME: "not a time"}),
    (b"{}", {ce.CE_SCHEMAVERSION: "banana", ce.CE_TYPE: "io.flightdeck.deploy.failed"}),
    (bytes(range(128, 256)) * 2500, {}),  # 320 KB of invalid UTF-8
]


@dataclass
class Gateway:
    url: str
    built: bootstrap.Gateway
    token: str

    def client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
async def gateway(pipeline: Pipeline, store: EventStore, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway in-process, its projector following the same streams."""
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'readmodel.db'}")
    config = GatewayConfig(
        github_api_url="http://127.0.0.1:9", close_after_done_s=0.5, gc_freeze=False
    )
    secrets = SecretsSettings(key=base64.b64encode(os.urandom(32)).decode())
    aws = AwsSettings(endpoint_url=pipeline.sandbox.aws_endpoint)
    built = bootstrap.build(config, store, database, secrets, aws)
    await built.start()
    port = free_port()
    server, task = await serve(create_app(config, built.dependencies), port)
    try:
        token = await create_token(store, built, TENANT, ["read"])
        yield Gateway(f"http://127.0.0.1:{port}", built, token)
    finally:
        built.connections.close_all("tests done")
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await built.stop()
        await database.close()


@dataclass
class Spray:
    """Publishes garbage round-robin over ``targets`` until stopped."""

    store: EventStore
    targets: list[str]
    published: dict[str, int] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        js = self.store.nc.jetstream()
        kinds = itertools.cycle(KINDS)
        while not stop.is_set():
            for subject in self.targets:
                payload, headers = next(kinds)
                await js.publish(subject, payload, headers=headers or None)
                self.published[subject] = self.published.get(subject, 0) + 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.3)


def targets(apps: list[str], deployments: list[str]) -> list[str]:
    """Every subject the deployments touch, and one subject of every area of every stream."""
    out = []
    for app, deployment in zip(apps, deployments, strict=True):
        out += [
            subjects.deployment(deployment),
            subjects.app(NAMESPACE, app),
            subjects.image(app, "v1"),
            subjects.probe(deployment),
            subjects.cluster_object(NAMESPACE, "Deployment", colour_name(app, Colour.BLUE)),
            subjects.cluster_object(NAMESPACE, "Ingress", app),
            subjects.cluster_object(NAMESPACE, "Pod", f"{colour_name(app, Colour.BLUE)}-garbage"),
            subjects.pod_logs(NAMESPACE, app, f"{colour_name(app, Colour.BLUE)}-garbage"),
        ]
    for service, name in (
        ("orchestrator", "start"),
        ("orchestrator", "cancel"),
        ("ecr-poller", "watch-image"),
        ("prober", "verify-colour"),
        ("log-relay", "follow-logs"),
    ):
        out.append(subjects.command(service, name))
    for patterns in streams.SUBJECTS.values():
        for pattern in patterns:
            out.append(pattern.replace(">", "garbage.x").replace("*", "garbage"))
    return out


async def test_garbage_on_every_stream_wedges_no_deployment(
    pipeline: Pipeline, store: EventStore, gateway: Gateway
) -> None:
    # arrange: four deployments, each bound for its own ending
    await pipeline.sandbox.push_image("pz-ok", "v1")
    await pipeline.sandbox.push_image("pz-crlf", "v1")
    await pipeline.sandbox.push_image("pz-ghost", "seed")  # the repository, not the tag
    plans = {
        "pz-ok": ({}, "deploy.completed", None),
        "pz-crlf": ({"health_path": "/he\r\nalth"}, "deploy.failed", "VERIFY_TARGET_INVALID"),
        "pz-ghost": ({"stage_timeout_s": 2.0}, "deploy.failed", "DEPLOYMENT_TIMEOUT"),
        "pz-nowhere": ({}, "deploy.failed", "REPOSITORY_NOT_FOUND"),
    }
    apps = list(plans)
    deployments = [
        await pipeline.deploy(
            app,
            "v1",
            **{"stage_timeout_s": 30.0, "overall_timeout_s": OVERALL_S, **plans[app][0]},
        )
        for app in apps
    ]
    spray = Spray(store, targets(apps, deployments))
    stop = asyncio.Event()
    sprayer = asyncio.create_task(spray.run(stop))
    sse = asyncio.create_task(_sse_events(gateway, deployments[0]))

    # act: the deployments run while garbage keeps arriving
    try:
        ended = [await pipeline.finished(d, within=OVERALL_S + 30) for d in deployments]
        await eventually(lambda: _apps_released(store, apps), within=30, what="apps released")
    finally:
        stop.set()
        await sprayer

    # assert: each ended its own way, before its deadline, and said so everywhere
    for app, records in zip(apps, ended, strict=True):
        final = records[-1]
        _, outcome, code = plans[app]
        assert final.type == outcome, (app, summary(records))
        assert getattr(final.event, "error_code", None) == code, (app, final.event)
        assert final.time <= records[0].time + timedelta(seconds=OVERALL_S), app
    assert all(spray.published.get(subjects.deployment(d), 0) for d in deployments)

    shown = await asyncio.wait_for(sse, 30)
    decodable = [r.position for r in ended[0] if render(r) is not None]
    assert [int(e["id"].split("/")[0]) for e in shown] == decodable
    assert shown[-1]["event"] == "done"

    async with gateway.client() as http:
        results = [await _result(http, d) for d in deployments]
    assert [(r["phase"], r.get("errorCode")) for r in results] == [
        ("SUCCEEDED", None),
        ("FAILED", "VERIFY_TARGET_INVALID"),
        ("FAILED", "DEPLOYMENT_TIMEOUT"),
        ("FAILED", "REPOSITORY_NOT_FOUND"),
    ]
    letters = await store.read(subjects.dead_letters("orchestrator"))
    poisoned = {r.event.subject for r in letters}
    assert {subjects.START_DEPLOYMENT, subjects.command("orchestrator", "cancel")} <= poisoned
    # its own deployments' subjects it reads through the store, skipping garbage, and no
    # longer consumes (ADR 0020): nothing there to dead-letter
    assert not {subjects.deployment(d) for d in deployments} & poisoned


async def _apps_released(store: EventStore, apps: list[str]) -> bool:
    for app in apps:
        records = await store.read(subjects.app(NAMESPACE, app))
        if not records or not isinstance(records[-1].event, AppReleased):
            return False
    return True


async def _sse_events(gw: Gateway, deployment: str) -> list[dict[str, str]]:
    """One SSE client following a deployment from its first event to its last."""
    out: list[dict[str, str]] = []
    async with (
        gw.client() as http,
        aconnect_sse(http, "GET", f"/api/v1/deploy/{deployment}/events") as source,
    ):
        assert source.response.status_code == 200
        async for sse in source.aiter_sse():
            if sse.id:
                out.append({"id": sse.id, "event": sse.event})
            if sse.event in ("done", "error"):
                break
    return out


async def _result(http: httpx.AsyncClient, deployment: str) -> dict[str, Any]:
    async def final() -> dict[str, Any] | None:
        answer = await http.get(f"/api/v1/deploy/{deployment}/result")
        if answer.status_code != 200:
            return None
        data: dict[str, Any] = msgspec.json.decode(answer.content)["data"]
        return data if data["phase"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    found: dict[str, Any] = await eventually(
        final, within=30, what=f"{deployment} in the read model"
    )
    return found
