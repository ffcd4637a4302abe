"""The client's stream resumption and the ops commands, against a tiny real HTTP server.

A stand-in for the gateway (uvicorn on a free port) that can answer what a real
system seldom does on cue: **204** to a reconnect after a deployment's final event,
a slow-consumer cut, a revoked key, and each ops route (``POST …/cancel``,
``/rollback``, ``/scale``, ``/restart``) with its contract (202 ``{"actionId"}``,
the one JSON error shape). The real routes are driven by ``tests/e2e/test_people.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from flightdeck.client import Flightdeck, FlightdeckError, Reconnect, ResumableStream
from tests.support.cli import flightdeck
from tests.support.serving import free_port, serve

pytestmark = pytest.mark.integration
TOKEN = "fdk_stub"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StubGateway:
    """Each stream path answers its connections in turn from a script; the rest records."""

    streams: dict[str, list[list[str] | int]] = field(default_factory=dict)
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        path = scope["path"]
        self.seen.append(Seen(scope["method"], path, headers, json.loads(body) if body else None))
        if headers.get("authorization") != f"Bearer {TOKEN}":
            await _json(send, 401, _error(401, "UNAUTHORIZED", "no such key", path))
        elif (scope["method"], path) in self.answers:
            status, answer = self.answers[(scope["method"], path)]
            await _json(send, status, {"code": status, "message": "OK", "data": answer})
        elif path in self.streams:
            script = self.streams[path]
            await _stream(send, script.pop(0) if script else 204)
        elif scope["method"] == "POST" and "/ghost" in path:
            await _json(send, 404, _error(404, "APP_NOT_FOUND", "no app ghost", path))
        elif scope["method"] == "POST":
            action = f"act-{len(self.seen)}"
            await _json(
                send, 202, {"code": 202, "message": "Accepted", "data": {"actionId": action}}
            )
        else:
            await _json(send, 404, _error(404, "NOT_FOUND", "no such route", path))


def _error(status: int, code: str, message: str, path: str) -> dict[str, Any]:
    return {
        "timestamp": "2026-12-07T09:00:00Z",
        "status": status,
        "error": "Error",
        "message": message,
        "errorCode": code,
        "path": path,
    }


async def _json(send: Any, status: int, body: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _stream(send: Any, answer: list[str] | int) -> None:
    if isinstance(answer, int):
        await send({"type": "http.response.start", "status": answer, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"retry: 3000\n\n", "more_body": True})
    for chunk in answer:
        await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b""})  # the server drops the stream


def sse(id_: str, event: str, data: dict[str, Any]) -> str:
    head = f"id: {id_}\n" if id_ else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n"


@pytest.fixture
async def stub() -> AsyncIterator[StubGateway]:
    gateway = StubGateway()
    port = free_port()
    server, task = await serve(gateway, port)
    gateway.url = f"http://127.0.0.1:{port}"
    yield gateway
    server.should_exit = True
    await task


def client(stub: StubGateway) -> Flightdeck:
    return Flightdeck(stub.url, TOKEN, reconnect=Reconnect(delay_s=0.01, attempts=3))


def stage(n: int) -> dict[str, Any]:
    return {"stage": "rollout", "status": "RUNNING", "message": f"pod {n} ready"}


async def test_a_dropped_stream_resumes_with_last_event_id_and_stops_on_204(
    stub: StubGateway,
) -> None:
    path = "/api/v1/deploy/d1/events"
    stub.streams[path] = [
        [sse("1", "stage", stage(1)), ": heartbeat\n\n", sse("2", "stage", stage(2))],
        [sse("3", "stage", stage(3))],
        204,  # what the gateway answers once Last-Event-ID is at or past the final event
    ]
    async with client(stub) as fd:
        stream = fd.deployment_events("d1")
        events = [e async for e in stream]

    asked = [s.headers.get("last-event-id") for s in stub.seen if s.path == path]
    assert [e.id for e in events] == ["1", "2", "3"]
    assert asked == [None, "2", "3"]
    assert stream.finished_by == "204" and stream.connections == 3


async def test_a_deployment_stream_stops_at_its_final_event_without_a_reconnect(
    stub: StubGateway,
) -> None:
    path = "/api/v1/deploy/d2/events"
    final = {"deploymentId": "d2", "errorCode": "CRASH_LOOP", "message": "crashing"}
    stub.streams[path] = [
        [sse("7", "stage", stage(1)), sse("8", "error", final)],
        [sse("9", "stage", stage(2))],  # a gateway without 204 would hold this open
    ]
    async with client(stub) as fd:
        stream = fd.deployment_events("d2")
        events = [e async for e in stream]

    assert [e.event for e in events] == ["stage", "error"]
    assert stream.finished_by == "terminal" and stream.connections == 1


async def test_a_slow_consumer_cut_resumes_from_where_the_server_says(stub: StubGateway) -> None:
    path = "/api/v1/logs/web/stream"
    line = {"pod": "web-blue-1", "container": "app", "level": "INFO", "text": "hello"}
    stub.streams[path] = [
        [
            sse("5:0", "log", line),
            sse("", "error", {"errorCode": "SLOW_CONSUMER", "resumeFrom": "5:0"}),
        ],
        [sse("5:1", "log", line)],
        204,
    ]
    async with client(stub) as fd:
        lines = [e.as_log_line() async for e in fd.log_stream("web", levels=["INFO", "WARN"])]

    asked = [s for s in stub.seen if s.path == path]
    assert [line.text for line in lines] == ["hello", "hello"]
    assert [s.headers.get("last-event-id") for s in asked] == [None, "5:0", "5:1"]


async def test_a_revoked_key_ends_the_stream_with_an_error(stub: StubGateway) -> None:
    path = "/api/v1/deploy/d3/events"
    revoked = {"errorCode": "UNAUTHORIZED", "message": "the API key was revoked"}
    stub.streams[path] = [[sse("1", "stage", stage(1)), sse("", "error", revoked)]]
    async with client(stub) as fd:
        with pytest.raises(FlightdeckError, match="UNAUTHORIZED"):
            _ = [e async for e in fd.deployment_events("d3")]


def env(stub: StubGateway) -> dict[str, str]:
    return {"FLIGHTDECK_URL": stub.url, "FLIGHTDECK_TOKEN": TOKEN}


async def test_ops_commands_post_their_contract_and_print_the_action(stub: StubGateway) -> None:
    runs = [
        await flightdeck("cancel", "d1", "--format", "json", env=env(stub)),
        await flightdeck("rollback", "web", "--idempotency-key", "k1", env=env(stub)),
        await flightdeck("scale", "web", "3", "--format", "json", env=env(stub)),
        await flightdeck("restart", "web", env=env(stub)),
        await flightdeck("restart", "web", "--pod", "web-blue-x1", env=env(stub)),
    ]

    assert [r.code for r in runs] == [0, 0, 0, 0, 0], runs
    posts = [(s.method, s.path, s.body) for s in stub.seen]
    assert posts == [
        ("POST", "/api/v1/deploy/d1/cancel", {}),
        ("POST", "/api/v1/apps/web/rollback", {}),
        ("POST", "/api/v1/apps/web/scale", {"replicas": 3}),
        ("POST", "/api/v1/apps/web/restart", {}),
        ("POST", "/api/v1/apps/web/pods/web-blue-x1/restart", {}),
    ]
    assert stub.seen[1].headers["idempotency-key"] == "k1"
    first = json.loads(runs[0].out)
    assert (first["actionId"], first["status"], first["deploymentId"]) == ("act-1", "PENDING", None)
    assert json.loads(runs[2].out)["actionId"] == "act-3"
    assert "act-2" in runs[1].out


async def test_ops_refusals_are_one_line_and_non_zero(stub: StubGateway) -> None:
    unknown = await flightdeck("scale", "ghost", "2", env=env(stub))
    too_many = await flightdeck("scale", "web", "51", env=env(stub))
    negative = await flightdeck("scale", "web", "--", "-1", env=env(stub))
    not_a_number = await flightdeck("scale", "web", "many", env=env(stub))
    no_key = await flightdeck(
        "restart", "web", env={"FLIGHTDECK_URL": stub.url, "FLIGHTDECK_TOKEN": "x"}
    )

    assert unknown.code == 1 and "APP_NOT_FOUND: no app ghost" in unknown.err
    assert too_many.code == 2 and "REPLICAS must be 0–50, not 51" in too_many.err
    assert negative.code == 2 and "not -1" in negative.err
    assert not_a_number.code == 2 and "Invalid value for 'replicas'" in not_a_number.err
    assert no_key.code == 1 and "UNAUTHORIZED" in no_key.err
    for result in (unknown, too_many, negative, not_a_number, no_key):
        assert len(result.err.strip().splitlines()) == 1, result.err
    # nothing reached the server for the refusals made at the door
    assert [s.path for s in stub.seen] == ["/api/v1/apps/ghost/scale", "/api/v1/apps/web/restart"]


async def test_deploy_wait_as_json_prints_every_event_then_the_result_and_exits_1_on_failure(
    stub: StubGateway,
) -> None:
    accepted = {"deploymentId": "d9", "status": "PENDING", "image": "web:v1"}
    stub.answers[("POST", "/api/v1/deploy")] = (202, accepted)
    failed = {
        "deploymentId": "d9",
        "appName": "web",
        "status": "FAILED",
        "errorCode": "IMAGE_PULL_FAILED",
        "errorMessage": "no such image",
    }
    stub.answers[("GET", "/api/v1/deploy/d9/result")] = (200, failed)
    error = {"deploymentId": "d9", "errorCode": "IMAGE_PULL_FAILED", "stage": "rollout"}
    stub.streams["/api/v1/deploy/d9/events"] = [
        [sse("1", "stage", stage(1)), sse("2", "error", error)]
    ]

    run = await flightdeck(
        "deploy",
        "web",
        "--image",
        "web:v1",
        "--wait",
        "--format",
        "json",
        "--replicas",
        "3",
        env=env(stub),
    )

    lines = [json.loads(line) for line in run.out.splitlines()]
    assert run.code == 1
    assert run.err.strip().splitlines() == ["error: deployment d9 FAILED: IMAGE_PULL_FAILED"]
    assert lines[0]["deploymentId"] == "d9"
    assert [(line["id"], line["event"]) for line in lines[1:3]] == [("1", "stage"), ("2", "error")]
    assert lines[3]["status"] == "FAILED" and lines[3]["errorCode"] == "IMAGE_PULL_FAILED"
    body = next(s.body for s in stub.seen if s.path == "/api/v1/deploy")
    assert body == {"appName": "web", "imageRepository": "web", "imageTag": "v1", "replicas": 3}


async def test_logs_follow_prints_each_line_until_the_stream_ends(stub: StubGateway) -> None:
    path = "/api/v1/logs/web/stream"
    line = {"pod": "web-blue-1", "container": "app", "level": "ERROR", "text": "db timeout"}
    stub.streams[path] = [
        [sse("5:0", "log", line), sse("5:1", "log", {**line, "text": "again"})],
        204,
    ]

    run = await flightdeck(
        "logs", "web", "-f", "--level", "ERROR,WARN", "--grep", "time|again", env=env(stub)
    )

    assert run.code == 0, run.err
    assert run.out.splitlines() == ["web-blue-1 app ERROR db timeout", "web-blue-1 app ERROR again"]
    asked = next(s for s in stub.seen if s.path == path)
    assert asked.headers.get("last-event-id") is None


async def test_in_dev_the_cli_finds_the_gateway_and_key_in_the_settings_and_state_dir(
    stub: StubGateway, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    port = str(httpx.URL(stub.url).port)
    dev = {"FLIGHTDECK_STATE_DIR": str(state), "FLIGHTDECK_GATEWAY__PORT": port}
    without = {
        k: v for k, v in os.environ.items() if k not in ("FLIGHTDECK_URL", "FLIGHTDECK_TOKEN")
    }

    no_key = await flightdeck("scale", "web", "2", env={**without, **dev})
    (state / "dev-token").write_text(TOKEN + "\n")
    found = await flightdeck("scale", "web", "2", env={**without, **dev})

    assert no_key.code == 2 and "no API key: set FLIGHTDECK_TOKEN" in no_key.err
    assert found.code == 0, found.err
    assert stub.seen[-1].headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_stream_that_keeps_ending_empty_is_reopened_with_growing_waits(
    stub: StubGateway,
) -> None:
    path = "/api/v1/logs/quiet/stream"
    stub.streams[path] = [[], [], [], 204]
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient(
        base_url=stub.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        stream = ResumableStream(
            http, path, reconnect=Reconnect(delay_s=0.5, max_delay_s=0.75), sleep=record
        )
        events = [e async for e in stream]

    assert events == [] and stream.finished_by == "204"
    assert waits == [0.5, 0.75]  # the first empty end reopens at once, then it backs off
