"""Every error the API can answer, with its HTTP status: one table, one exception.

A tenant's own limits answer 429 and speak of that tenant only; the gateway's
global limits answer ``503 AT_CAPACITY``, which says nothing of who holds the
capacity (ADR 0016).

Panda's result API answers an unknown deployment id with 400, so
``DEPLOYMENT_NOT_FOUND`` does too; another tenant's id is indistinguishable
from an unknown one, so existence never leaks across tenants.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    DEPLOYMENT_NOT_FOUND = "DEPLOYMENT_NOT_FOUND"
    CONNECTION_NOT_FOUND = "CONNECTION_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    APP_NOT_FOUND = "APP_NOT_FOUND"
    POD_NOT_FOUND = "POD_NOT_FOUND"
    ACTION_NOT_FOUND = "ACTION_NOT_FOUND"
    APP_BUSY = "APP_BUSY"
    NO_LIVE_COLOUR = "NO_LIVE_COLOUR"
    NO_PREVIOUS_RELEASE = "NO_PREVIOUS_RELEASE"
    DEPLOYMENT_FINISHED = "DEPLOYMENT_FINISHED"
    RATE_LIMITED = "RATE_LIMITED"
    NAMESPACE_NOT_FOUND = "NAMESPACE_NOT_FOUND"
    NAMESPACE_NOT_WATCHED = "NAMESPACE_NOT_WATCHED"
    INVALID_LOG_FILTER = "INVALID_LOG_FILTER"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    AWS_CREDENTIALS_INVALID = "AWS_CREDENTIALS_INVALID"
    GITHUB_CREDENTIALS_INVALID = "GITHUB_CREDENTIALS_INVALID"
    GITHUB_REPOSITORY_NOT_FOUND = "GITHUB_REPOSITORY_NOT_FOUND"
    GITHUB_BRANCH_NOT_FOUND = "GITHUB_BRANCH_NOT_FOUND"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    QUEUE_FULL = "QUEUE_FULL"
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    AT_CAPACITY = "AT_CAPACITY"
    SLOW_CONSUMER = "SLOW_CONSUMER"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.DEPLOYMENT_NOT_FOUND: 400,
    ErrorCode.CONNECTION_NOT_FOUND: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.APP_NOT_FOUND: 404,
    ErrorCode.POD_NOT_FOUND: 404,
    ErrorCode.ACTION_NOT_FOUND: 404,
    ErrorCode.APP_BUSY: 409,
    ErrorCode.NO_LIVE_COLOUR: 409,
    ErrorCode.NO_PREVIOUS_RELEASE: 409,
    ErrorCode.DEPLOYMENT_FINISHED: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NAMESPACE_NOT_FOUND: 404,
    ErrorCode.NAMESPACE_NOT_WATCHED: 409,
    ErrorCode.INVALID_LOG_FILTER: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.AWS_CREDENTIALS_INVALID: 400,
    ErrorCode.GITHUB_CREDENTIALS_INVALID: 400,
    ErrorCode.GITHUB_REPOSITORY_NOT_FOUND: 400,
    ErrorCode.GITHUB_BRANCH_NOT_FOUND: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.QUEUE_FULL: 429,
    ErrorCode.TOO_MANY_CONNECTIONS: 429,
    ErrorCode.TOO_MANY_SUBSCRIPTIONS: 429,
    ErrorCode.AT_CAPACITY: 503,
    ErrorCode.SLOW_CONSUMER: 429,
    ErrorCode.UPSTREAM_UNAVAILABLE: 502,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


class ApiError(Exception):
    """A request the gateway refuses, with the code a client can act on."""

    def __init__(
        self, code: ErrorCode, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers
        """Response headers the refusal carries (``Retry-After`` of ``RATE_LIMITED``)."""

    @property
    def status(self) -> int:
        return STATUS[self.code]


def status_phrase(status: int) -> str:
    """The ``error`` field of the error body: the status's reason phrase."""
    import http

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
