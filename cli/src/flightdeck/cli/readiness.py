"""Readiness: a service is ready when it answers ``$SRV.PING.<its micro name>``
(and the gateway, when its HTTP port answers too)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import nats.errors
from nats.aio.client import Client as NATS

from flightdeck.runtime.service import micro_name


async def wait_ready(nc: NATS, service: str, timeout: float = 60.0) -> float:
    """Seconds until ``service`` answered its ping; ``TimeoutError`` after ``timeout``."""
    started = time.monotonic()
    subject = f"$SRV.PING.{micro_name(service)}"
    while True:
        try:
            await nc.request(subject, b"", timeout=0.5)
            return time.monotonic() - started
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{service} did not become ready in {timeout:.0f}s") from None
            await asyncio.sleep(0.1)


async def wait_http(url: str, timeout: float = 60.0) -> float:
    """Seconds until ``url`` answers below 500 (the gateway listens only after its
    NATS readiness ping is up); ``TimeoutError`` after ``timeout``."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url)).status_code < 500:
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")
            await asyncio.sleep(0.1)
