"""Just enough ASGI: a request read whole, JSON and text answers, chunked streams.

The sandbox speaks a wire protocol clients parse byte by byte, so it writes
raw ASGI messages rather than going through a framework: the exact
Content-Type, bodies on PUT without a Content-Type, one flush per watch event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = "application/json"
TEXT = "text/plain"

_encoder = msgspec.json.Encoder()


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    receive: Receive

    @classmethod
    async def read(cls, scope: Scope, receive: Receive) -> Request:
        body = bytearray()
        if scope["method"] not in ("GET", "HEAD"):
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        return cls(scope["method"], scope["path"], query, headers, bytes(body), receive)

    def flag(self, name: str) -> bool:
        """A boolean query flag: clients send ``true`` and also Python's ``True``."""
        return self.query.get(name, "").lower() in ("true", "1")

    def integer(self, name: str) -> int | None:
        value = self.query.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return msgspec.json.decode(self.body) if self.body else None

    async def disconnected(self) -> None:
        """Return once the client has gone away (only valid after the body was read)."""
        while (await self.receive())["type"] != "http.disconnect":
            pass


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = JSON,
    headers: dict[str, str] | None = None,
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def respond_json(
    send: Send, status: int, obj: Any, headers: dict[str, str] | None = None
) -> None:
    await respond(send, status, encode(obj), JSON, headers)


async def stream(
    request: Request, send: Send, chunks: AsyncGenerator[bytes, None], content_type: str = JSON
) -> None:
    """Send a chunked 200 response, one chunk per item, until done or the client leaves."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"cache-control", b"no-cache, private"),
            ],
        }
    )
    gone = asyncio.ensure_future(request.disconnected())
    try:
        while True:
            step = asyncio.ensure_future(anext(chunks))
            await asyncio.wait({step, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await step
                return
            try:
                chunk = step.result()
            except StopAsyncIteration:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gone
        await chunks.aclose()
