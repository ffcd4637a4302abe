"""Content negotiation: what the client asked for, and what its body is.

kubectl asks for a ``meta.k8s.io`` Table first and plain JSON second; the
garbage collector and ``kubectl get -o name`` may ask for
PartialObjectMetadata; protobuf is never offered, so clients fall back to JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import yaml

from flightdeck.sandbox.status import ApiError


@dataclass(frozen=True)
class Wanted:
    """The representation to answer with: ``json``, ``table`` or ``partial``."""

    form: str
    version: str = "v1"


def negotiate(accept: str | None) -> Wanted:
    """Pick the first entry of an Accept header the sandbox can produce."""
    if not accept:
        return Wanted("json")
    for entry in accept.split(","):
        media, *raw_params = (part.strip() for part in entry.split(";"))
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        if media not in ("application/json", "*/*", "application/*"):
            continue
        shape = params.get("as")
        if shape is None:
            return Wanted("json")
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if shape == "Table":
            return Wanted("table", params["v"])
        if shape in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return Wanted("partial", params["v"])
    raise ApiError(
        406,
        f"only the following media types are accepted: application/json, "
        f"application/json;as=Table;v=v1;g=meta.k8s.io (asked for {accept})",
        "NotAcceptable",
    )


def _plain(value: Any) -> Any:
    """YAML turns unquoted timestamps into datetimes; the API keeps them as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def decode_body(content_type: str, body: bytes) -> Any:
    """Decode a request body: JSON for the JSON types, YAML for apply (JSON is YAML too)."""
    if not body:
        return None
    try:
        if content_type.endswith("json") and content_type != "application/apply-patch+yaml":
            return msgspec.json.decode(body)
        if content_type.endswith("yaml") or content_type == "":
            return _plain(yaml.safe_load(body))
    except (msgspec.DecodeError, yaml.YAMLError) as exc:
        raise ApiError(
            400, f"the body of the request could not be decoded: {exc}", "BadRequest"
        ) from exc
    if "protobuf" in content_type:
        raise ApiError(
            415,
            "the sandbox speaks JSON and YAML, not protobuf: kubectl's imperative generators "
            "(create deployment/namespace/...) send protobuf; use `kubectl create -f` or `apply -f`",
            "UnsupportedMediaType",
        )
    raise ApiError(
        415,
        "the body of the request was in an unknown format - accepted media types include: "
        f"application/json, application/yaml (got {content_type})",
        "UnsupportedMediaType",
    )


def field_manager(query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """``fieldManager``, or the User-Agent's product name as the real server defaults it."""
    if explicit := query.get("fieldManager"):
        return explicit
    agent = headers.get("user-agent", "unknown")
    return agent.split("/", 1)[0].split(" ", 1)[0] or "unknown"
