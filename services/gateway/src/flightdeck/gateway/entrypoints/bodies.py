"""Request bodies at the edge: JSON only, bounded in size and in depth, before any decoding.

Runs as the app's ``before_request`` hook, so after the guards (an anonymous
caller is refused before its body is read) and before Litestar decodes the
``data`` argument. Reading the body here enforces ``max_body_bytes`` twice: on
``Content-Length`` at once, and while the body streams in (a chunked body has
no length); either answers ``413 PAYLOAD_TOO_LARGE``. Then the raw bytes are
checked for nesting depth (:mod:`flightdeck.gateway.domain.jsondepth`), so no
decoder ever recurses on a hostile document.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.jsondepth import TooDeep, check_depth


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, in UTF-8 (RFC 8259)."""
    if not content_type:
        return False
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    kind, _, subtype = media.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def takes_body(request: Request[Any, Any, Any]) -> bool:
    """Whether the route decodes a ``data`` argument (only POST handlers here do)."""
    return "data" in request.route_handler.parsed_fn_signature.parameters


def json_body(max_depth: int) -> Any:
    """The ``before_request`` hook for every route that takes a body."""

    async def check(request: Request[Any, Any, Any]) -> None:
        if not takes_body(request):
            return
        if not is_json(request.headers.get("content-type")):
            raise ApiError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON: Content-Type: application/json",
            )
        raw = await request.body()  # 413 from Litestar past request_max_body_size
        try:
            check_depth(raw, max_depth)
        except TooDeep as exc:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"body: {exc}") from exc

    return check
