"""The NATS contract: the AsyncAPI 3.0 document and a page to read it; open, like /schema.

The document is the one ``flightdeck asyncapi`` writes to ``docs/asyncapi.json``
(:mod:`flightdeck.runtime.asyncapi`, ADR 0019): built once, on first request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Controller, MediaType, Response, get

from flightdeck.runtime import asyncapi


@cache
def _document() -> tuple[bytes, bytes]:
    text = asyncapi.render()
    return text.encode(), asyncapi.html(asyncapi.document()).encode()


class AsyncApiController(Controller):
    path = "/asyncapi"
    tags = ["documentation"]

    @get(
        "/",
        operation_id="asyncapi_page",
        summary="The NATS contract as a page: every subject, operation and message (open: no key)",
        media_type=MediaType.HTML,
    )
    async def page(self) -> Response[bytes]:
        return Response(_document()[1], media_type=MediaType.HTML)


class AsyncApiDocumentController(Controller):
    path = "/asyncapi.json"
    tags = ["documentation"]

    @get(
        "/",
        operation_id="asyncapi_document",
        summary="The AsyncAPI 3.0 document of every NATS subject (open: no key)",
        media_type=MediaType.JSON,
    )
    async def document(self) -> Response[dict[str, Any]]:
        # Documented as the JSON object it is; sent as the stored bytes, unchanged.
        body: Any = _document()[0]
        return Response(body, media_type="application/json")
