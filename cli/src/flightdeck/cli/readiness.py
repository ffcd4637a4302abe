"""Readiness: a service is ready when it answers ``$SRV.PING.<its micro name>``
(and the gateway, when its HTTP port answers too)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from flightdeck.runtime.connection import wait_ready

__all__ = ["wait_http", "wait_ready"]


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
