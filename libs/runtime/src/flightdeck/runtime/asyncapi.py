"""The AsyncAPI 3.0 document: every subject Flightdeck publishes or consumes (ADR 0019).

Generated from the code, never written by hand:

- **FastStream's generator** builds the skeleton from a broker that never
  connects, holding the same subscribers the services run (every durable of
  :mod:`flightdeck.runtime.contract`, registered by
  :func:`flightdeck.runtime.consumers.subscribe`) and one publisher per subject
  pattern each party declares it writes (its dead letters included): the
  channels, the ``receive`` and ``send`` operations, the server;
- **the vocabulary** gives the messages: each event and command type with its
  payload schema (msgspec's JSON Schema of the type, the decoder's truth) and
  the CloudEvents headers every message carries (``ce-id``, ``ce-type``…, see
  :mod:`flightdeck.events.envelope`);
- each command a service accepts gets its own channel and a ``receive``
  operation (``StartDeployment`` on ``fd.cmd.orchestrator.start``), and every
  stream's subjects get a channel, so nothing stored goes undocumented.

A channel carries the messages its stream holds (the codec decodes a message on
a stream as that stream's union); a command channel carries what its service
accepts. ``flightdeck asyncapi`` writes it to ``docs/asyncapi.json`` (a test keeps
that file current) and the gateway serves it at ``/asyncapi.json``.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable
from functools import cache
from html import escape
from typing import Any
from urllib.parse import unquote

import msgspec
from faststream.specification import AsyncAPI

from flightdeck.events import Codec, envelope, streams, subjects
from flightdeck.runtime import contract
from flightdeck.runtime.consumers import ConsumerSpec, ProcessBroker, subscribe

VERSION = "0.1.0"
TITLE = "Flightdeck"
DEFAULT_SERVER = "nats://localhost:4222"
HEADERS = "CloudEventsHeaders"
_SCHEMAS = "#/components/schemas/{name}"

_DESCRIPTION = (
    "Every NATS subject Flightdeck's services publish or consume. Events are facts on "
    "JetStream streams (`fd.evt.<area>.…`, one subject per aggregate); commands ask one "
    "service for work (`fd.cmd.<service>.<name>`, exactly one handler); poison messages "
    "go to `fd.dlq.<service>`. Payloads are JSON (the `type` field names the message), "
    "metadata rides in CloudEvents 1.0 headers (binary mode). Consumers are durable pull "
    "consumers with explicit acks (ADR 0019)."
)

_HEADER_TEXT: dict[str, tuple[str, bool]] = {
    envelope.CE_ID: ("The message's unique id (CloudEvents `id`)", True),
    envelope.CE_TYPE: ("`io.flightdeck.` and the payload's `type` tag", True),
    envelope.CE_SOURCE: ("Who wrote it: `/flightdeck/<service>`", True),
    envelope.CE_SPECVERSION: ("CloudEvents version: `1.0`", True),
    envelope.CE_SUBJECT: ("The NATS subject it was written to", False),
    envelope.CE_TIME: ("When it was recorded (RFC 3339)", False),
    envelope.CE_SCHEMAVERSION: ("The payload type's schema version (upcasters read it)", False),
    envelope.CE_CORRELATION: ("The request this message belongs to", True),
    envelope.CE_CAUSATION: ("The id of the message that caused this one", False),
    envelope.CE_ACTOR: ("Who acted: `user:<name>`, `service:<name>`, `token:<id>`", False),
    envelope.MSG_ID: ("Repeats `ce-id`: JetStream drops a retried publish", True),
    envelope.CONTENT_TYPE: ("`application/json`", False),
}


def members(union: Any) -> list[type[Any]]:
    """The message types of a union (or the one type)."""
    args = typing.get_args(union)
    return list(args) if args else [union]


def _accepted() -> dict[str, list[contract.Accepts]]:
    by_service: dict[str, list[contract.Accepts]] = {}
    for party in contract.ALL:
        by_service.setdefault(party.service, []).extend(party.accepts)
    return by_service


def messages_on(address: str) -> list[type[Any]]:
    """The message types that may travel on ``address`` (a subject or a pattern)."""
    accepted = _accepted()
    parts = address.split(".")
    if address.startswith(subjects.COMMANDS + ".") and len(parts) >= 3 and parts[2] != ">":
        service = subjects.untoken(parts[2])
        found = [a for a in accepted.get(service, []) if a.subject == address]
        if found:
            return [a.command for a in found]
        return [a.command for a in accepted.get(service, [])]
    return members(streams.UNIONS[streams.stream_for_subject(address)])


def _channel_id(party: str, subject: str) -> str:
    parts = subject.split(".")
    if subject.startswith(subjects.DEAD_LETTERS + "."):
        return f"{party}-sends-dead-letters"
    kind = "commands" if parts[1] == "cmd" else "events"
    return f"{party}-sends-{parts[2]}-{kind}"


def _undocumented(_: Any) -> None:  # a documentation broker never calls its handlers
    raise AssertionError("the documentation broker does not consume")


def broker(server: str = DEFAULT_SERVER) -> ProcessBroker:
    """A broker that never connects, holding every party's subscribers and publishers."""
    docs = ProcessBroker(None, servers=server, description="NATS JetStream")
    codec = Codec("/flightdeck/asyncapi")
    for party in contract.ALL:
        for durable in party.durables:
            subscribe(docs, ConsumerSpec.of(durable, _undocumented), codec)  # type: ignore[arg-type]
        sends = [*party.publishes]
        if party.durables:
            sends.append(subjects.dead_letters(party.service))
        for subject in sends:
            docs.publisher(
                subject,
                title=_channel_id(party.service, subject),
                description=f"{party.service}: {party.description}",
            )
    return docs


def document(server: str = DEFAULT_SERVER) -> dict[str, Any]:
    """The whole AsyncAPI 3.0.0 document, as JSON-ready data."""
    skeleton = AsyncAPI(
        broker(server),
        title=TITLE,
        version=VERSION,
        description=_DESCRIPTION,
        schema_version="3.0.0",
    ).to_specification()
    doc: dict[str, Any] = json.loads(skeleton.to_json())
    doc["id"] = "urn:flightdeck:nats"
    # FastStream names a channel of several filter subjects `<title>:<subject>`: make every
    # id a plain token (the spec's component-key pattern), and the order stable.
    renamed = {key: _plain(key) for key in doc["channels"]}
    channels: dict[str, Any] = {renamed[k]: v for k, v in doc["channels"].items()}
    operations: dict[str, Any] = {}
    for key, operation in doc["operations"].items():
        target = unquote(operation["channel"]["$ref"].rsplit("/", 1)[-1])
        operation["channel"] = {"$ref": f"#/channels/{renamed[target]}"}
        operations[_plain(key)] = operation
    # FastStream describes payloads from handler annotations; ours are msgspec types.
    for channel in channels.values():
        channel["messages"] = _message_refs(messages_on(channel["address"]))
    for operation in operations.values():
        channel_id = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        operation["messages"] = [
            {"$ref": f"#/channels/{channel_id}/messages/{name}"}
            for name in channels[channel_id]["messages"]
        ]
    for party in contract.ALL:
        for accepts in party.accepts:
            name = accepts.subject.rsplit(".", 1)[-1]
            channel_id = f"{party.service}-command-{name}"
            channels[channel_id] = _channel(
                accepts.subject,
                f"{accepts.command.__name__} to the {party.service}: exactly one handler",
                [accepts.command],
            )
            operations[f"{party.service}-handles-{name}"] = {
                "action": "receive",
                "title": f"{party.service} handles {accepts.command.__name__}",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [
                    {"$ref": f"#/channels/{channel_id}/messages/{accepts.command.__name__}"}
                ],
            }
    for stream, patterns in streams.SUBJECTS.items():
        for pattern in patterns:
            area = "" if len(patterns) == 1 else f"-{pattern.split('.')[2]}"
            channel_id = f"stream-{stream}{area}"
            channels[channel_id] = _channel(
                pattern,
                f"Everything stream {stream} stores on `{pattern}`",
                members(streams.UNIONS[stream]),
            )
    doc["channels"] = dict(sorted(channels.items()))
    doc["operations"] = dict(sorted(operations.items()))
    doc["components"] = _components()
    return doc


def _plain(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")


def _channel(address: str, description: str, types: Iterable[type[Any]]) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "servers": [{"$ref": "#/servers/development"}],
        "messages": _message_refs(types),
        "bindings": {"nats": {"subject": address, "bindingVersion": "custom"}},
    }


def _message_refs(types: Iterable[type[Any]]) -> dict[str, Any]:
    return {t.__name__: {"$ref": f"#/components/messages/{t.__name__}"} for t in types}


@cache
def _all_types() -> tuple[type[Any], ...]:
    found: dict[str, type[Any]] = {}
    for union in streams.UNIONS.values():
        for cls in members(union):
            found.setdefault(cls.__name__, cls)
    return tuple(sorted(found.values(), key=lambda c: c.__name__))


def _components() -> dict[str, Any]:
    types = _all_types()
    _, schemas = msgspec.json.schema_components(types, ref_template=_SCHEMAS)
    schemas[HEADERS] = {
        "type": "object",
        "description": "CloudEvents 1.0 attributes as NATS headers (binary mode), ADR 0003",
        "properties": {
            name: {"type": "string", "description": text}
            for name, (text, _) in _HEADER_TEXT.items()
        },
        "required": [name for name, (_, required) in _HEADER_TEXT.items() if required],
    }
    messages = {
        cls.__name__: {
            "name": cls.type_name(),
            "title": cls.__name__,
            "summary": _summary(cls),
            "contentType": "application/json",
            "headers": {"$ref": _SCHEMAS.format(name=HEADERS)},
            "payload": {"$ref": _SCHEMAS.format(name=cls.__name__)},
            "correlationId": {"location": f"$message.header#/{envelope.CE_CORRELATION}"},
        }
        for cls in types
    }
    return {"schemas": dict(sorted(schemas.items())), "messages": messages}


def _summary(cls: type[Any]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip() or cls.__name__


def render(server: str = DEFAULT_SERVER) -> str:
    """The document as it is written to ``docs/asyncapi.json`` (stable, indented)."""
    return json.dumps(document(server), indent=2, sort_keys=False) + "\n"


def html(doc: dict[str, Any]) -> str:
    """A self-contained page of ``doc``: servers, channels with their operations and
    messages, each message's headers and payload schema (no script, nothing fetched)."""
    e = escape
    ops_by_channel: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for op_id, op in doc["operations"].items():
        ops_by_channel.setdefault(op["channel"]["$ref"].rsplit("/", 1)[-1], []).append((op_id, op))
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(doc['info']['title'])} NATS contract (AsyncAPI {e(doc['asyncapi'])})</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        "pre{background:#f7f7f7;padding:.5em;overflow:auto;max-height:25em}</style></head><body>",
        f"<h1>{e(doc['info']['title'])} NATS contract</h1>",
        f"<p>AsyncAPI {e(doc['asyncapi'])}, version {e(doc['info']['version'])}: "
        "<a href='/asyncapi.json'>the document</a>.</p>",
        f"<p>{e(doc['info'].get('description', ''))}</p>",
        "<h2>Channels</h2><table><tr><th>channel</th><th>address</th><th>operations</th>"
        "<th>messages</th></tr>",
    ]
    for channel_id, channel in doc["channels"].items():
        ops = "<br>".join(
            f"{e(op['action'])}: {e(op_id)}" for op_id, op in ops_by_channel.get(channel_id, [])
        )
        msgs = ", ".join(f"<a href='#{e(name)}'>{e(name)}</a>" for name in channel["messages"])
        out.append(
            f"<tr id='channel-{e(channel_id)}'><td>{e(channel_id)}</td>"
            f"<td><code>{e(channel['address'])}</code><br>{e(channel.get('description', ''))}"
            f"</td><td>{ops}</td><td>{msgs}</td></tr>"
        )
    out.append("</table><h2>Messages</h2>")
    schemas = doc["components"]["schemas"]
    for name, message in doc["components"]["messages"].items():
        payload = schemas[message["payload"]["$ref"].rsplit("/", 1)[-1]]
        out.append(
            f"<h3 id='{e(name)}'>{e(name)} <code>{e(message['name'])}</code></h3>"
            f"<p>{e(message.get('summary', ''))}</p>"
            f"<pre>{e(json.dumps(payload, indent=2))}</pre>"
        )
    headers = schemas[HEADERS]
    out.append(f"<h2>Headers</h2><pre>{e(json.dumps(headers, indent=2))}</pre></body></html>")
    return "\n".join(out)
