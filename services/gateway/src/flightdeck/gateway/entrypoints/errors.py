"""Every failure becomes ONE JSON shape, here and nowhere else.

``{timestamp, status, error, message, errorCode, path}``: the codes are listed
in :mod:`flightdeck.gateway.domain.errors` and docs/api.md. Unexpected
exceptions are logged with their traceback under a fresh request id and answered
as ``INTERNAL_ERROR`` with that ``requestId`` and no other detail (ADR 0016).
"""

from __future__ import annotations

import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from flightdeck.gateway.domain.errors import STATUS, ApiError, ErrorCode, status_phrase
from flightdeck.gateway.schemas import ErrorBody

log = structlog.get_logger(__name__)

_BY_STATUS = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.QUEUE_FULL,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def error_response(
    request: Request[Any, Any, Any],
    code: ErrorCode,
    message: str,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    status = STATUS[code]
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.error(code.value)
    body = ErrorBody(
        timestamp=datetime.now(UTC),
        status=status,
        error=status_phrase(status),
        message=message,
        error_code=code,
        path=request.url.path,
        request_id=request_id,
    )
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        first = extra[0]
        where = first.get("key") or first.get("source") or ""
        text = str(first.get("message", exc.detail))
        return f"{text} ({where})" if where else text
    return str(exc.detail) or "the request is not valid"


def on_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return error_response(request, exc.code, exc.message, headers=exc.headers)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    if isinstance(exc, ValidationException):
        return error_response(request, ErrorCode.VALIDATION_ERROR, _validation_message(exc))
    if isinstance(exc, NotFoundException):
        return error_response(request, ErrorCode.NOT_FOUND, "no such resource")
    if isinstance(exc, MethodNotAllowedException):
        allow = (exc.headers or {}).get("allow")
        return error_response(
            request,
            ErrorCode.METHOD_NOT_ALLOWED,
            "method not allowed here",
            headers={"Allow": allow} if allow else None,
        )
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.app.request_max_body_size
        return error_response(
            request, ErrorCode.PAYLOAD_TOO_LARGE, f"the body is larger than {limit} bytes"
        )
    if isinstance(exc, NotAuthorizedException):
        return error_response(request, ErrorCode.UNAUTHORIZED, str(exc.detail))
    if isinstance(exc, PermissionDeniedException):
        return error_response(request, ErrorCode.FORBIDDEN, str(exc.detail))
    code = _BY_STATUS.get(exc.status_code)
    if code is None:
        code = ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR
    return error_response(request, code, str(exc.detail))


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Log the traceback under a fresh request id, and answer with that id only.

    The traceback is formatted here, without local variables: a renderer that
    shows locals would print whatever the failing frame held (a secret key being
    sealed, an API key being checked).
    """
    request_id = uuid.uuid4().hex
    log.error(
        "unexpected error",
        request_id=request_id,
        method=request.method,
        path=request.url.path,
        exception="".join(traceback.format_exception(exc)),
    )
    return error_response(
        request,
        ErrorCode.INTERNAL_ERROR,
        f"internal error; the gateway's log holds the details under request id {request_id}",
        request_id=request_id,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: on_api_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
