"""Webhooks (Slack, Discord, generic) over httpx, through the egress (SSRF) guard.

A channel's URL is the tenant's input, so each request goes only where the guard
allows (ADR 0027): the host is resolved once, every address judged, and the
request connects to the judged address with the URL's host kept for the Host
header and TLS SNI, so a name cannot answer a public address to the check and an
internal one to the connection. A refused URL is not retried (``NOT_ALLOWED``).
"""

from __future__ import annotations

import httpx

from flightdeck.notifier.domain.channels import HttpRequest
from flightdeck.notifier.domain.delivery import NOT_ALLOWED, Answer, excerpt, http_answer
from flightdeck.runtime.egress import EgressPolicy, EgressRefused
from flightdeck.runtime.egress_resolver import check_url

USER_AGENT = "flightdeck-notifier/1"


async def pinned(
    url: str, policy: EgressPolicy
) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL to connect to (the judged address), the Host header and the TLS SNI to send."""
    target, addresses = await check_url(url, policy)
    original = httpx.URL(url)
    if target.literal is not None:
        return original, {}, {}
    headers = {"Host": original.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return original.copy_with(host=str(addresses[0])), headers, extensions


class HttpxWebhookSender:
    """Posts webhooks where the egress ``policy`` allows (by default: public addresses only)."""

    def __init__(self, timeout_s: float = 10.0, policy: EgressPolicy | None = None) -> None:
        self._policy = policy or EgressPolicy.of(())
        self._client = httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )

    async def post(self, request: HttpRequest) -> Answer:
        try:
            url, host, extensions = await pinned(request.url, self._policy)
        except EgressRefused as exc:
            return Answer(ok=False, status=None, error=NOT_ALLOWED, excerpt=excerpt(str(exc)))
        try:
            response = await self._client.post(
                url,
                content=request.body,
                headers={**request.headers, **host},
                extensions=extensions,
            )
        except httpx.TimeoutException:
            return Answer(ok=False, status=None, error="timeout")
        except httpx.ConnectError as exc:
            return Answer(ok=False, status=None, error="connect", excerpt=excerpt(str(exc)))
        except httpx.HTTPError as exc:
            return Answer(
                ok=False, status=None, error=type(exc).__name__, excerpt=excerpt(str(exc))
            )
        return http_answer(response.status_code, response.text)

    async def close(self) -> None:
        await self._client.aclose()
