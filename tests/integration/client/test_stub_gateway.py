"""The client's stream resumption and the ops commands, against a tiny real HTTP server.

A stand-in for the gateway (uvicorn on a free port) where the gateway does not
have the behaviour yet: it answers **204** to a reconnect after a deployment's
final event (the gateway's own 204 lands with another part of issue 14), and the
ops routes (``POST …/cancel``, ``/rollback``, ``/scale``, ``/restart``) are being
built in parallel: the CLI is held to their contract (202 ``{"actionId"}``, the
one JSON error shape) here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from flightdeck.client import Flightdeck, FlightdeckError, Reconnect
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
    assert json.loads(runs[0].out) == {"actionId": "act-1", "deploymentId": None}
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
