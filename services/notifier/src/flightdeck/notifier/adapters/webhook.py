"""Webhooks (Slack, Discord, generic) over httpx."""

from __future__ import annotations

import httpx

from flightdeck.notifier.domain.channels import HttpRequest
from flightdeck.notifier.domain.delivery import Answer, excerpt, http_answer

USER_AGENT = "flightdeck-notifier/1"


def check_webhook_url(url: str) -> None:
    """SSRF hook: the guard of issue 15 item 8 (built by the monitors work) checks each
    webhook URL here before a request goes out; today it lets every URL through."""


class HttpxWebhookSender:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )

    async def post(self, request: HttpRequest) -> Answer:
        try:
            check_webhook_url(request.url)
            response = await self._client.post(
                request.url, content=request.body, headers=request.headers
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
