"""The WebSocket endpoint: several pipeline and log subscriptions on one socket.

Client messages are JSON objects tagged by ``type``; each delivered event is
one text message carrying its ``subscriptionId`` and ``position``. A bad
message is answered with ``{type: "error", code, message}`` and the socket
stays open; only a slow consumer, an idle socket or shutdown close it.

Limits (ADR 0016): a message above ``ws_max_message_bytes`` never reaches this
code (uvicorn closes the socket with 1009, see ``entrypoints/main.py``); a
message nested deeper than ``max_json_depth`` is refused before decoding; a
socket holds at most ``ws_max_subscriptions``; a log ``tail`` is at most
``max_history_lines``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import structlog
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.domain import limits
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.inputs import MAX_POSITION
from flightdeck.gateway.domain.jsondepth import TooDeep, check_depth
from flightdeck.gateway.domain.logfilter import Cursor, LogFilter, parse_cursor
from flightdeck.gateway.domain.logrender import LogRenderer
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.schemas import ID, AppName, Namespace
from flightdeck.gateway.service_layer import logs as loghandlers
from flightdeck.gateway.service_layer import streams
from flightdeck.gateway.service_layer.connections import REVOKED, Connections
from flightdeck.gateway.service_layer.logs import LogReading
from flightdeck.gateway.service_layer.streams import Streaming

SubscriptionId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ID)]
DeploymentId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ID)]
Position = Annotated[int, msgspec.Meta(ge=0, le=MAX_POSITION)]

log = structlog.get_logger(__name__)


class SubscribeToPipeline(
    msgspec.Struct, tag="subscribe-to-pipeline", rename="camel", kw_only=True
):
    deployment_id: DeploymentId
    from_position: Position | None = None
    subscription_id: SubscriptionId | None = None


class SubscribeToLogs(msgspec.Struct, tag="subscribe-to-logs", rename="camel", kw_only=True):
    """History as on the SSE stream (``fromPosition``, else ``filter.since``, else ``tail``), then live."""

    app: AppName
    namespace: Namespace = "default"
    filter: LogFilter = LogFilter()
    tail: int | None = None
    from_position: Position | Annotated[str, msgspec.Meta(max_length=64)] | None = None
    subscription_id: SubscriptionId | None = None


class UpdateLogFilter(msgspec.Struct, tag="update-log-filter", rename="camel", kw_only=True):
    subscription_id: SubscriptionId
    filter: LogFilter


class Unsubscribe(msgspec.Struct, tag="unsubscribe", rename="camel", kw_only=True):
    subscription_id: SubscriptionId


ClientMessage = SubscribeToPipeline | SubscribeToLogs | UpdateLogFilter | Unsubscribe
_decode = msgspec.json.Decoder(ClientMessage).decode
_encode = msgspec.json.Encoder().encode


def _ws_frame(subscription_id: str) -> Any:
    head = b'{"type":"event","subscriptionId":' + _encode(subscription_id) + b',"position":'

    def frame(r: Rendered) -> bytes:
        return b'%s%d,"event":"%s","data":%s}' % (head, r.position, r.event.encode(), r.data)

    return frame


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("websocket subscription failed", exc_info=task.exception())


@dataclass(frozen=True)
class WsSetup:
    """What a socket needs besides its subscriptions: limits, timings, counters."""

    max_subscriptions: int
    max_json_depth: int
    idle_timeout_s: float
    close_after_done_s: float
    slow_close_grace_s: float
    connections: Connections
    metrics: Metrics


class WsConnection:
    """One socket and its subscriptions."""

    kind = "ws"

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        principal: Principal,
        setup: WsSetup,
        streaming: Streaming,
        logs: LogReading,
    ) -> None:
        self.socket = socket
        self.setup = setup
        self.streaming = streaming
        self.logs = logs
        self.principal = principal
        self.tenant = principal.tenant
        self.subs: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self.log_subs: set[str] = set()
        self.filter_updates: dict[str, LogRenderer] = {}
        self.last_activity = time.monotonic()
        self.closing: str | None = None
        self.done = asyncio.Event()
        self._counter = 0
        self._send_lock = asyncio.Lock()

    @property
    def token_id(self) -> str | None:
        return self.principal.token_id

    def tick(self, now: float) -> None:
        if now - self.last_activity >= self.setup.idle_timeout_s:
            self.close("idle timeout")

    def close(self, reason: str) -> None:
        self.closing = self.closing or reason
        self.done.set()

    async def send(self, message: dict[str, Any] | bytes) -> None:
        data = message if isinstance(message, bytes) else _encode(message)
        async with self._send_lock:
            await self.socket.send_data(data.decode(), mode="text")

    async def error(
        self, code: ErrorCode, message: str, subscription_id: str | None = None
    ) -> None:
        self.setup.metrics.error(code.value)
        body: dict[str, Any] = {"type": "error", "code": code.value, "message": message}
        if subscription_id is not None:
            body["subscriptionId"] = subscription_id
        await self.send(body)

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        closer = asyncio.create_task(self.done.wait())
        try:
            await asyncio.wait({reader, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            closer.cancel()
            for sub, task in list(self.subs.values()):
                task.cancel()
                sub.detach()
            await asyncio.gather(
                reader, closer, *(t for _, t in self.subs.values()), return_exceptions=True
            )
        if self.closing == REVOKED:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.error(ErrorCode.UNAUTHORIZED, REVOKED), self.setup.slow_close_grace_s
                )
        if self.closing is not None:
            code = {ErrorCode.SLOW_CONSUMER.value: 4008, REVOKED: 4401}.get(self.closing, 1000)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.socket.close(code=code, reason=self.closing[:120]),
                    self.setup.slow_close_grace_s,
                )

    async def _read(self) -> None:
        while True:
            try:
                text = await self.socket.receive_data(mode="text")
            except WebSocketDisconnect:
                return
            self.last_activity = time.monotonic()
            try:
                check_depth(text.encode(), self.setup.max_json_depth)
                message = _decode(text)
            except (msgspec.DecodeError, msgspec.ValidationError, TooDeep) as exc:
                await self.error(ErrorCode.VALIDATION_ERROR, str(exc))
                continue
            try:
                await self._handle(message)
            except (
                ApiError
            ) as exc:  # named by the subscription it was about, if the client named one
                await self.error(exc.code, exc.message, message.subscription_id)

    def _new_id(self, wanted: str | None) -> str:
        if wanted:
            if wanted in self.subs:
                raise ApiError(ErrorCode.CONFLICT, f"subscription {wanted} already exists")
            return wanted
        self._counter += 1
        while f"s{self._counter}" in self.subs:
            self._counter += 1
        return f"s{self._counter}"

    async def _handle(self, message: ClientMessage) -> None:
        if isinstance(message, SubscribeToPipeline | SubscribeToLogs):
            limits.admit_subscription(self.setup.max_subscriptions, len(self.subs))
        match message:
            case SubscribeToPipeline():
                await streams.check_deployment_visible(
                    self.streaming, self.principal, message.deployment_id
                )
                sid = self._new_id(message.subscription_id)
                sub = streams.deployment_events(
                    self.streaming,
                    message.deployment_id,
                    message.from_position or 0,
                    _ws_frame(sid),
                )
                await self._subscribe(sid, sub, "pipeline")
            case SubscribeToLogs():
                await self._subscribe_to_logs(message)
            case UpdateLogFilter():
                sub = self._find(message.subscription_id)
                if message.subscription_id not in self.log_subs:
                    raise ApiError(
                        ErrorCode.VALIDATION_ERROR, f"{message.subscription_id} is not about logs"
                    )
                renderer = LogRenderer(loghandlers.checked_filter(message.filter))
                self.filter_updates[message.subscription_id] = renderer
                sub.wake_writer()
            case Unsubscribe():
                sub = self._find(message.subscription_id)
                _, task = self.subs.pop(message.subscription_id)
                self.log_subs.discard(message.subscription_id)
                self.filter_updates.pop(message.subscription_id, None)
                task.cancel()
                sub.detach()
                await self.send({"type": "unsubscribed", "subscriptionId": message.subscription_id})

    async def _subscribe_to_logs(self, message: SubscribeToLogs) -> None:
        loghandlers.checked_tail(self.logs, message.tail)
        line_filter = loghandlers.checked_filter(message.filter, message.tail)
        resume = _cursor(message.from_position)
        sid = self._new_id(message.subscription_id)
        await loghandlers.check_app_visible(
            self.logs, self.principal, message.namespace, message.app
        )
        start = await loghandlers.stream_start(
            self.logs,
            message.namespace,
            message.app,
            line_filter,
            resume=resume,
            tail=message.tail,
        )
        wanted = message.filter
        by_time = resume is None and message.tail is None and (wanted.since or wanted.until)
        await loghandlers.checked_history(
            self.logs, message.app, start, line_filter, by_time=bool(by_time)
        )
        spec = StreamSpec(
            subject_filter=start.subject,
            renderer=start.renderer,
            after=start.after,
            client_filter=start.client_filter,
        )
        self.log_subs.add(sid)
        await self._subscribe(sid, self.streaming.subscribe(spec, _ws_frame(sid)), "logs")

    def _find(self, subscription_id: str) -> Subscription:
        found = self.subs.get(subscription_id)
        if found is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"no subscription {subscription_id}")
        return found[0]

    async def _subscribe(self, sid: str, sub: Subscription, kind: str) -> None:
        await sub.attach()
        await self.send({"type": "subscribed", "subscriptionId": sid, "kind": kind})
        task = asyncio.create_task(self._pump(sid, sub), name=f"ws {sid}")
        task.add_done_callback(_log_failure)
        self.subs[sid] = (sub, task)

    async def _pump(self, sid: str, sub: Subscription) -> None:
        async def write(frames: list[bytes]) -> None:
            for frame in frames:
                await self.send(frame)
            self.last_activity = time.monotonic()

        writer = asyncio.create_task(self._deliver(sid, sub, write))
        cut = asyncio.create_task(sub.overflow.wait())
        try:
            done, _ = await asyncio.wait({writer, cut}, return_when=asyncio.FIRST_COMPLETED)
            if cut in done:
                writer.cancel()
                self.close(ErrorCode.SLOW_CONSUMER.value)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.error(
                            ErrorCode.SLOW_CONSUMER,
                            f"fell too far behind; resume after position {sub.outbox.resume_from}",
                            sid,
                        ),
                        self.setup.slow_close_grace_s,
                    )
            elif writer in done:
                with contextlib.suppress(WebSocketDisconnect):  # the client left mid-replay
                    writer.result()  # anything else fails this task, which logs it
        finally:
            writer.cancel()
            cut.cancel()

    async def _deliver(self, sid: str, sub: Subscription, write: Any) -> None:
        await sub.replay(write)
        while True:
            update = self.filter_updates.pop(sid, None)
            if update is not None:
                # Swap the filter and take what the old one rendered in one step (no await
                # between): every line after the acknowledgement is the new filter's.
                sub.set_filter(update)
                await sub.flush(write)
                await self.send({"type": "filter-updated", "subscriptionId": sid})
                continue
            if await sub.flush(write):
                continue
            timeout = None
            if sub.terminal_at is not None:
                timeout = sub.terminal_at + self.setup.close_after_done_s - time.monotonic()
                if timeout <= 0:
                    break
            await sub.wait(timeout)
        sub.detach()
        self.subs.pop(sid, None)
        self.log_subs.discard(sid)
        await self.send({"type": "unsubscribed", "subscriptionId": sid, "reason": "done"})


def _cursor(value: int | str | None) -> Cursor | None:
    """``fromPosition``: a position (after that event) or a line cursor ``"41:3"``."""
    if value is None:
        return None
    try:
        return parse_cursor(str(value))
    except ValueError as exc:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR, "fromPosition must be a position or <position>:<line>"
        ) from exc
