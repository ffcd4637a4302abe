"""``metav1.Status`` error bodies, as the real API server writes them.

kubectl prints these as ``Error from server (NotFound): pods "x" not found``;
client libraries raise on the ``code``. Raising :class:`ApiError` anywhere in
request handling becomes one of these.
"""

from __future__ import annotations

from typing import Any

from flightdeck.sandbox.resources import ResourceType

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """A request the API refuses; carries the Status to send."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.message, self.reason, self.details)


def status_body(
    code: int, message: str, reason: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def success(rtype: ResourceType, name: str, uid: str = "") -> dict[str, Any]:
    """What DELETE returns for an object removed at once."""
    details: dict[str, Any] = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    if uid:
        details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def _details(rtype: ResourceType, name: str, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind or rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return details


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, f'{rtype.qualified()} "{name}" not found', "NotFound", _details(rtype, name)
    )


def already_exists(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        409, f'{rtype.qualified()} "{name}" already exists', "AlreadyExists", _details(rtype, name)
    )


def conflict(rtype: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {rtype.qualified()} "{name}": {why}',
        "Conflict",
        _details(rtype, name),
    )


def stale(rtype: ResourceType, name: str) -> ApiError:
    return conflict(
        rtype,
        name,
        "the object has been modified; please apply your changes "
        "to the latest version and try again",
    )


def invalid(rtype: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 with ``causes`` given as ``(field, reason, message)``."""
    group_kind = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
    text = ", ".join(f"{f}: {m}" for f, _, m in causes)
    message = f'{group_kind} "{name}" is invalid: ' + (text if len(causes) == 1 else f"[{text}]")
    details = _details(rtype, name, rtype.kind)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, message, "Invalid", details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def expired(message: str) -> dict[str, Any]:
    """The object of the ERROR event a watch gets for a too-old resourceVersion."""
    return status_body(410, message, "Expired")
