"""The one error the client raises: the gateway's JSON error, or why it could not be had."""

from __future__ import annotations

import httpx


class FlightdeckError(Exception):
    """A refusal or a failure, with the gateway's ``errorCode``.

    Attributes:
        status: the HTTP status (0 when no answer came at all).
        code: the gateway's ``errorCode`` (``APP_NOT_FOUND``, ``FORBIDDEN``…), or
            ``UNREACHABLE`` / ``BAD_ANSWER`` for what the client itself found.
        message: the gateway's message, one line.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.status = status
        self.code = code
        self.message = message


def error_from_response(response: httpx.Response) -> FlightdeckError:
    """The gateway's error body (one shape everywhere) as a :class:`FlightdeckError`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "errorCode" in body:
        message = str(body.get("message") or "").replace("\n", " ")
        return FlightdeckError(response.status_code, str(body["errorCode"]), message)
    text = response.text.strip().replace("\n", " ")[:200]
    return FlightdeckError(
        response.status_code, f"HTTP_{response.status_code}", text or response.reason_phrase
    )
