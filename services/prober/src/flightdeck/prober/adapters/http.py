"""HTTP checks with httpx: one shared client, a Host header when asked, a timeout each."""

from __future__ import annotations

import time

import httpx

from flightdeck.prober.domain.checks import Result, Target, judge, unreachable

_BODY_LIMIT = 64 * 1024


class HttpProber:
    def __init__(self, max_connections: int = 200) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
            headers={"User-Agent": "flightdeck-prober"},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def check(self, target: Target) -> Result:
        headers = {"Host": target.host} if target.host else {}
        started = time.perf_counter()
        try:
            response = await self._client.get(target.url, headers=headers, timeout=target.timeout_s)
        except httpx.TimeoutException:
            return unreachable(f"timed out after {target.timeout_s:g}s", _since(started))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # InvalidURL is no HTTPError: uncaught, it would fail (and dead-letter) the command.
            return unreachable(f"{type(exc).__name__}: {exc}".strip(": "), _since(started))
        body = response.text[:_BODY_LIMIT] if target.body_contains else ""
        return judge(target, response.status_code, body, _since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
