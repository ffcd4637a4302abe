"""Flightdeck's client library: the gateway's API as typed async calls (httpx, httpx-sse).

    from flightdeck.client import Flightdeck

    async with Flightdeck("http://127.0.0.1:8080", token) as fd:
        accepted = await fd.deploy("web", "web", "v1.2.3")
        async for event in fd.deployment_events(accepted.deployment_id):
            print(event.event, event.data.get("stage"), event.data.get("status"))
        result = await fd.result(accepted.deployment_id)

Streams reconnect with ``Last-Event-ID`` when they drop and stop on 204 No Content
or after a deployment's ``done``/``error``. Every refusal is a
:class:`FlightdeckError` with the gateway's ``errorCode``.
"""

from flightdeck.client.client import TOKEN_ENV, URL_ENV, Flightdeck
from flightdeck.client.errors import FlightdeckError
from flightdeck.client.models import (
    ActionAccepted,
    DeploymentAccepted,
    DeploymentResult,
    DeploymentSummary,
    LogLine,
    LogPage,
    StageResult,
    StreamEvent,
)
from flightdeck.client.streams import Reconnect, ResumableStream

__all__ = [
    "TOKEN_ENV",
    "URL_ENV",
    "ActionAccepted",
    "DeploymentAccepted",
    "DeploymentResult",
    "DeploymentSummary",
    "Flightdeck",
    "FlightdeckError",
    "LogLine",
    "LogPage",
    "Reconnect",
    "ResumableStream",
    "StageResult",
    "StreamEvent",
]
