"""What the log-stream tests share (no tests here): apps, published lines, an SSE reader,
and the filter cases with their oracle.

Lines are published as the log-relay publishes them (``LogLinesCaptured`` on
``fd.evt.log.<ns>.<app>.<pod>``); every line's text is unique, so a test
compares texts in order. The expected lines of a filter are computed here in
plain Python from the published data, independently of the gateway's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
from httpx_sse import aconnect_sse

from flightdeck.events import subjects
from flightdeck.events.logs import LogFollowLost, LogLevel, LogLine, LogLinesCaptured, LogSource
from tests.integration.gateway.conftest import CAUSE, Gateway, new_deployment
from tests.support.waiting import eventually

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def unique_app(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def make_app(gw: Gateway, app: str, tenant: str = "acme") -> str:
    """A deployment of ``app`` for ``tenant`` in its home namespace, the app claimed as the
    gateway claims it (so its logs are the tenant's at once); returns the deployment's id."""
    dep, _ = await new_deployment(gw.store, tenant=tenant, app=app)
    return dep


@dataclass(frozen=True)
class Sent:
    """One published line, as the oracle sees it."""

    pod: str
    container: str
    level: str
    source: str
    time: datetime
    text: str


def batch(
    app: str, pod: str, container: str, lines: list[tuple[str, str, str, datetime]]
) -> LogLinesCaptured:
    """``lines``: (level, source, text, time)."""
    return LogLinesCaptured(
        namespace="default",
        pod=pod,
        container=container,
        node="node-1",
        app=app,
        lines=[
            LogLine(
                time=at,
                source=LogSource(source),
                source_inferred=True,
                level=LogLevel(level),
                text=text,
            )
            for level, source, text, at in lines
        ],
    )


async def publish(
    gw: Gateway, app: str, *events: LogLinesCaptured | LogFollowLost, namespace: str = "default"
) -> list[int]:
    """Append each event on its pod's subject; returns their positions."""
    out = []
    for event in events:
        subject = subjects.pod_logs(namespace, app, event.pod)
        result = await gw.store.append(subject, [event], cause=CAUSE)
        out.append(result.last_position)
    return out


def many(app: str, pod: str, count: int, tag: str, level: str = "INFO") -> LogLinesCaptured:
    now = datetime.now(UTC)
    return batch(app, pod, "app", [(level, "stdout", f"{tag} {i}", now) for i in range(count)])


# ----------------------------------------------------------------- a dataset and its filters

PODS = ("web-a", "web-b")
CONTAINERS = ("app", "sidecar")
_TEXTS = (
    ("INFO", "stdout", "GET /api/42 200"),
    ("ERROR", "stderr", "db Timeout after 5s"),
    ("WARN", "stderr", "slow health probe"),
    ("DEBUG", "stdout", "cache lookup"),
    ("ERROR", "stdout", "connection refused by db"),
    ("INFO", "stdout", "health check ok"),
    ("FATAL", "stderr", "panic: out of memory"),
    ("UNKNOWN", "stdout", "plain words"),
)


def dataset(
    app: str, round_: str, start: datetime = T0
) -> tuple[list[LogLinesCaptured], list[Sent]]:
    """Four batches (2 pods, 2 containers each) of eight lines each, one second apart."""
    events, sent = [], []
    n = 0
    for pod in PODS:
        for container in CONTAINERS:
            lines = []
            for level, source, text in _TEXTS:
                at = start + timedelta(seconds=n)
                unique = f"{text} #{round_}{n}"
                lines.append((level, source, unique, at))
                sent.append(Sent(pod, container, level, source, at, unique))
                n += 1
            events.append(batch(app, pod, container, lines))
    return events, sent


@dataclass(frozen=True)
class Case:
    """A filter as query parameters and as a WebSocket filter, and who it keeps."""

    name: str
    query: dict[str, str]
    ws: dict[str, Any]
    keeps: Callable[[Sent], bool]
    tail: int | None = None


def _t(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


CASES = [
    Case("no filter", {}, {}, lambda s: True),
    Case(
        "levels",
        {"levels": "ERROR,WARN"},
        {"levels": ["ERROR", "WARN"]},
        lambda s: s.level in ("ERROR", "WARN"),
    ),
    Case(
        "levels any case",
        {"levels": "fatal"},
        {"levels": ["Fatal"]},
        lambda s: s.level == "FATAL",
    ),
    Case("sources", {"sources": "stderr"}, {"sources": ["stderr"]}, lambda s: s.source == "stderr"),
    Case(
        "keywords any of, any case",
        {"keywords": "timeout,REFUSED"},
        {"keywords": ["timeout", "REFUSED"]},
        lambda s: "timeout" in s.text.lower() or "refused" in s.text.lower(),
    ),
    Case(
        "include",
        {"include": r"^GET /api/\d+"},
        {"include": r"^GET /api/\d+"},
        lambda s: re.search(r"^GET /api/\d+", s.text) is not None,
    ),
    Case(
        "exclude",
        {"exclude": "health|cache"},
        {"exclude": "health|cache"},
        lambda s: re.search("health|cache", s.text) is None,
    ),
    Case("pods", {"pods": "web-b"}, {"pods": ["web-b"]}, lambda s: s.pod == "web-b"),
    Case(
        "containers",
        {"containers": "sidecar"},
        {"containers": ["sidecar"]},
        lambda s: s.container == "sidecar",
    ),
    Case(
        "since and until",
        {"since": _t(5), "until": _t(20)},
        {"since": _t(5), "until": _t(20)},
        lambda s: T0 + timedelta(seconds=5) <= s.time <= T0 + timedelta(seconds=20),
    ),
    Case("tail", {"tail": "5"}, {}, lambda s: True, tail=5),
    Case(
        "levels + pods + keywords",
        {"levels": "ERROR", "pods": "web-b", "keywords": "db"},
        {"levels": ["ERROR"], "pods": ["web-b"], "keywords": ["db"]},
        lambda s: s.level == "ERROR" and s.pod == "web-b" and "db" in s.text.lower(),
    ),
    Case(
        "sources + exclude + containers",
        {"sources": "stdout", "exclude": "health", "containers": "app"},
        {"sources": ["stdout"], "exclude": "health", "containers": ["app"]},
        lambda s: s.source == "stdout" and "health" not in s.text and s.container == "app",
    ),
    Case(
        "include + levels + tail",
        {"include": "db|panic", "levels": "ERROR,FATAL", "tail": "3"},
        {"include": "db|panic", "levels": ["ERROR", "FATAL"]},
        lambda s: re.search("db|panic", s.text) is not None and s.level in ("ERROR", "FATAL"),
        tail=3,
    ),
]


def expected_history(case: Case, sent: list[Sent]) -> list[str]:
    kept = [s.text for s in sent if case.keeps(s)]
    return kept[-case.tail :] if case.tail is not None else kept


def expected_live(case: Case, sent: list[Sent]) -> list[str]:
    return [s.text for s in sent if case.keeps(s)]


# ----------------------------------------------------------------- an SSE reader


@dataclass
class Message:
    id: str
    event: str
    data: dict[str, Any]


class LogReader:
    """One SSE client reading in the background; ``messages`` grows as they arrive."""

    def __init__(
        self,
        gw: Gateway,
        path: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        who: str = "acme-read",
    ) -> None:
        self.gw, self.path, self.params = gw, path, params or {}
        self.headers = {**gw.auth(who), **(headers or {})}
        self.messages: list[Message] = []
        self.status: int | None = None
        self.body: bytes = b""
        self.closed = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LogReader:
        self._task = asyncio.create_task(self._run())
        await eventually(self._started)
        return self

    async def _started(self) -> bool:
        return self.status is not None

    async def _run(self) -> None:
        async with (
            httpx.AsyncClient(base_url=self.gw.url, timeout=60) as client,
            aconnect_sse(client, "GET", self.path, params=self.params, headers=self.headers) as src,
        ):
            self.status = src.response.status_code
            if self.status != 200:
                self.body = await src.response.aread()
                self.closed = True
                return
            async for sse in src.aiter_sse():
                if sse.event == "message" and not sse.data:
                    continue
                self.messages.append(Message(sse.id, sse.event, msgspec.json.decode(sse.data)))
        self.closed = True

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    def lines(self) -> list[Message]:
        return [m for m in self.messages if m.event == "log"]

    def texts(self) -> list[str]:
        return [m.data["text"] for m in self.lines()]

    async def wait_lines(self, count: int) -> list[str]:
        async def enough() -> bool:
            return len(self.lines()) >= count

        await eventually(enough)
        return self.texts()

    async def wait_for(self, text: str) -> list[str]:
        """Until a line with ``text`` has arrived (a marker that ends what a test waits for)."""

        async def seen() -> bool:
            return text in self.texts()

        await eventually(seen)
        return self.texts()

    def error(self) -> dict[str, Any]:
        return dict(msgspec.json.decode(self.body))
