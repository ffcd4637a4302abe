"""Publish-and-wait-for-the-ack, lighter than ``nc.request``.

Every append waits for the server's acknowledgement. nats-py's request path
makes a new NUID token, an ``asyncio.wait_for`` and a done-callback per call;
at thousands of appends per second that was a tenth of the client's CPU. Here
one wildcard reply subscription serves every append, tokens are a counter, and
the timeout is a plain timer. Unlike ``publish_async`` every reply resolves its
waiter, errors included, so a failed expectation is reported at once.
"""

from __future__ import annotations

import asyncio
import itertools

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


class AckWaiter:
    """Sends a message with a reply subject and returns the reply's body."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._prefix = ""
        self._sub: Subscription | None = None
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._tokens = itertools.count(1)
        self._lock = asyncio.Lock()

    async def _ensure_subscribed(self) -> None:
        async with self._lock:
            if self._sub is None:
                self._prefix = self._nc.new_inbox() + "."
                self._sub = await self._nc.subscribe(self._prefix + "*", cb=self._on_reply)

    async def _on_reply(self, msg: Msg) -> None:
        waiter = self._waiting.pop(msg.subject[len(self._prefix) :], None)
        if waiter is not None and not waiter.done():
            waiter.set_result(msg)

    async def request(
        self, subject: str, payload: bytes, headers: dict[str, str], timeout: float
    ) -> bytes:
        """Publish and wait up to ``timeout`` seconds for the reply.

        Raises:
            nats.errors.TimeoutError: no reply in time.
            nats.errors.NoRespondersError: nothing stores ``subject`` right now.
        """
        if self._sub is None:
            await self._ensure_subscribed()
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Msg] = loop.create_future()
        self._waiting[token] = waiter
        timer = loop.call_later(timeout, self._expire, token)
        try:
            await self._nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
            reply = await waiter
        finally:
            timer.cancel()
            self._waiting.pop(token, None)
        if not reply.data and reply.headers and reply.headers.get("Status") == "503":
            raise nats.errors.NoRespondersError
        return reply.data

    def _expire(self, token: str) -> None:
        waiter = self._waiting.pop(token, None)
        if waiter is not None and not waiter.done():
            waiter.set_exception(nats.errors.TimeoutError)
