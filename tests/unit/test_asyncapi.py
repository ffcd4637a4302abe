"""The AsyncAPI contract (issue 13 item 5, ADR 0019): one valid AsyncAPI 3.0 document of
every subject published or consumed, generated from the code, kept in docs/asyncapi.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from typer.testing import CliRunner

from flightdeck.cli.app import app
from flightdeck.events import Cause, Codec, streams, subjects
from flightdeck.events.commands import StartDeployment
from flightdeck.runtime import asyncapi, contract
from tests.support.asyncapi import problems
from tests.support.samples import one_of_each

pytestmark = pytest.mark.unit

DOC = Path(__file__).parents[2] / "docs" / "asyncapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.document()


def test_the_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert problems(document) == []


def test_the_validation_catches_a_broken_document(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    broken["channels"]["orchestrator-command-start"]["address"] = 5
    del broken["info"]
    broken["operations"]["orchestrator-handles-start"]["action"] = "consume"
    found = problems(broken)
    assert len(found) == 3, found


def test_docs_asyncapi_json_is_generated_from_the_code() -> None:
    assert DOC.read_text() == asyncapi.render(), (
        "run: uv run flightdeck asyncapi --output docs/asyncapi.json"
    )


def test_start_deployment_is_received_on_its_command_subject(document: dict[str, Any]) -> None:
    channel = document["channels"]["orchestrator-command-start"]
    assert channel["address"] == subjects.START_DEPLOYMENT == "fd.cmd.orchestrator.start"
    assert list(channel["messages"]) == ["StartDeployment"]
    operation = document["operations"]["orchestrator-handles-start"]
    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": "#/channels/orchestrator-command-start"}
    message = document["components"]["messages"]["StartDeployment"]
    assert message["name"] == StartDeployment.type_name()
    payload = document["components"]["schemas"]["StartDeployment"]
    assert {"deployment_id", "tenant", "app", "namespace", "repository", "tag"} <= set(
        payload["required"]
    )


def test_every_stream_subject_is_a_channel_with_its_messages(document: dict[str, Any]) -> None:
    addresses = {c["address"]: c for c in document["channels"].values()}
    for stream, patterns in streams.SUBJECTS.items():
        for pattern in patterns:
            assert pattern in addresses, (stream, pattern)
            union = asyncapi.members(streams.UNIONS[stream])
            assert set(addresses[pattern]["messages"]) == {t.__name__ for t in union}
    every_type = {t.__name__ for u in streams.UNIONS.values() for t in asyncapi.members(u)}
    assert set(document["components"]["messages"]) == every_type


def test_every_durable_is_received_and_every_published_subject_sent(
    document: dict[str, Any],
) -> None:
    """From the contract the services run on: a receive operation per durable (FastStream's
    subscribers), a send operation per subject a party publishes, dead letters included."""
    received: dict[str, set[str]] = {}
    sent: set[str] = set()
    for operation in document["operations"].values():
        channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        if operation["action"] == "receive":
            received.setdefault(channel["address"], set()).add(channel["description"])
        else:
            sent.add(channel["address"])
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
    for party in contract.ALL:
        for durable in party.durables:
            for subject in durable.subjects:
                assert durable.description in received.get(subject, set()), durable.name
        assert set(party.publishes) <= sent, party.service
        if party.durables:
            assert subjects.dead_letters(party.service) in sent


def test_what_the_codec_writes_matches_the_documented_payloads_and_headers(
    document: dict[str, Any],
) -> None:
    """The schemas are the decoder's truth: a real encoded message of each stream validates
    against its message's payload schema, and its headers against the CloudEvents headers."""
    components = document["components"]
    codec = Codec("/flightdeck/test")
    cause = Cause(actor="user:ada", correlation_id="c1", causation_id="e0")
    samples = [*one_of_each("k1"), (subjects.START_DEPLOYMENT, _start())]
    for subject, message in samples:
        out = codec.encode(subject, message, cause)
        name = type(message).__name__
        payload_schema = {**components["schemas"][name], "components": components}
        jsonschema.validate(msgspec.json.decode(out.payload), payload_schema)
        jsonschema.validate(dict(out.headers), components["schemas"][asyncapi.HEADERS])
        channels = [c for c in document["channels"].values() if _matches(c["address"], subject)]
        assert channels and all(name in c["messages"] for c in channels), (subject, name)
    bad = {**msgspec.json.decode(codec.encode("x", _start(), cause).payload), "app": "Not_DNS"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            bad, {**components["schemas"]["StartDeployment"], "components": components}
        )


def test_the_page_lists_every_channel(document: dict[str, Any]) -> None:
    page = asyncapi.html(document)
    assert page.startswith("<!doctype html>") and "<script" not in page
    for channel in document["channels"].values():
        assert f"<code>{channel['address']}</code>" in page.replace("&gt;", ">")


def test_the_cli_prints_or_writes_the_document(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["asyncapi"])
    assert printed.exit_code == 0 and printed.stdout == asyncapi.render()
    target = tmp_path / "asyncapi.json"
    written = runner.invoke(app, ["asyncapi", "--output", str(target)])
    assert written.exit_code == 0 and json.loads(target.read_text()) == asyncapi.document()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--server", "http://nats:4222"], "--server"),
        (["--server", "nats://"], "--server"),
        (["--output", "/nonexistent-dir/asyncapi.json"], "--output"),
    ],
)
def test_the_cli_refuses_bad_input_in_one_line(args: list[str], said: str) -> None:
    result = CliRunner().invoke(app, ["asyncapi", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0]


def _start() -> StartDeployment:
    return StartDeployment(
        deployment_id="d-1",
        tenant="acme",
        app="web",
        namespace="default",
        repository="team/web",
        tag="v1",
    )


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)
