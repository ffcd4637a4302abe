"""The edge's grammar (ADR 0016): image references, health paths, env, positions, JSON depth, limits."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from flightdeck.gateway.domain import sse
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.inputs import MAX_POSITION, parse_position
from flightdeck.gateway.domain.jsondepth import TooDeep, check_depth
from flightdeck.gateway.domain.limits import (
    Limit,
    admit_connection,
    admit_deployment,
    admit_subscription,
)
from flightdeck.gateway.domain.logfilter import Cursor, parse_cursor
from flightdeck.gateway.schemas import DeployCreate

pytestmark = pytest.mark.unit


def deploy(**fields: Any) -> DeployCreate:
    body = {"appName": "web", "imageRepository": "web", "imageTag": "v1", **fields}
    return msgspec.json.decode(json.dumps(body).encode(), type=DeployCreate)


def refused(field: str, **fields: Any) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        deploy(**fields)
    message = str(caught.value)
    assert field in message, message
    return message


@pytest.mark.parametrize(
    "repository",
    [
        "web",
        "library/web",
        "acme/team.web_app",
        "acme/web__x",
        "acme/web---x",
        "registry.example.com/acme/web",
        "localhost:5000/web",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web",
        "[::1]:5000/web",
    ],
)
def test_image_repositories_of_the_oci_grammar_are_accepted(repository: str) -> None:
    assert deploy(imageRepository=repository).image_repository == repository


@pytest.mark.parametrize(
    "repository",
    [
        "../../etc",
        "web; rm -rf /",
        "web\x00",
        "web\n",
        "Web",  # path components are lowercase
        "/web",
        "web/",
        "web//x",
        "-web",
        "web.",
        "acme/web:v1",  # a tag is imageTag's
        "acme/web@sha256:abc",
        "a" * 256,
    ],
)
def test_other_image_repositories_are_refused_naming_the_field(repository: str) -> None:
    refused("imageRepository", imageRepository=repository)


@pytest.mark.parametrize("tag", ["v1", "V1.2.3", "latest", "_x", "a" * 128, "1.0-rc_1"])
def test_tags_of_the_oci_grammar_are_accepted(tag: str) -> None:
    assert deploy(imageTag=tag).image_tag == tag


@pytest.mark.parametrize(
    "tag", ["", ".v1", "-v1", "v1\x00", "v1\n", "v 1", "v1;rm", "../x", "a" * 129, "vé"]
)
def test_other_tags_are_refused_naming_the_field(tag: str) -> None:
    refused("imageTag", imageTag=tag)


@pytest.mark.parametrize(
    "path", ["/", "/health", "/api/v1/ready", "/health?full=1", "/a%20b", "/x/", "/.well-known/h"]
)
def test_health_paths_are_absolute_url_paths(path: str) -> None:
    assert deploy(healthPath=path).health_path == path


@pytest.mark.parametrize(
    "path",
    [
        "/health\r\nHost: evil",
        "/health\n",
        "/health\x00",
        "/he alth",
        "health",
        "//evil.example.com/x",
        "/../etc/passwd",
        "/a/./b",
        "/a/..",
        "/a/%2e%2E/b",
        "/é",
        "/" + "a" * 512,
    ],
)
def test_other_health_paths_are_refused_naming_the_field(path: str) -> None:
    refused("healthPath", healthPath=path)


def test_env_names_are_c_identifiers_within_count_and_size() -> None:
    assert deploy(env={"A_1": "x", "_b": ""}).env == {"A_1": "x", "_b": ""}
    for name in ("1A", "A-B", "A B", "", "A\n", "É"):
        refused("env", env={name: "x"})
    refused("env", env={f"V{i}": "x" for i in range(101)})
    assert len(deploy(env={f"V{i}": "x" for i in range(100)}).env) == 100
    refused("env", env={"BIG": "x" * (32 * 1024)})
    refused("env", env={"A": "x" * 20_000, "B": "x" * 20_000})
    refused("env", env={"A": "nul\x00byte"})


def test_branches_are_git_branch_names() -> None:
    body = {"appName": "web", "githubConnectionId": "g", "branch": "feature/x-1"}
    assert msgspec.json.decode(json.dumps(body).encode(), type=DeployCreate).branch == "feature/x-1"
    for bad in ("../main", "a..b", "a b", "a\nb", "-x", "x.lock", "x/", "a~1", "a:b"):
        body["branch"] = bad
        with pytest.raises(msgspec.ValidationError, match="branch"):
            msgspec.json.decode(json.dumps(body).encode(), type=DeployCreate)


@pytest.mark.parametrize(
    "text",
    ["", "-1", "+1", "1_000", " 1", "١٢", "1e3", "0x10", str(MAX_POSITION + 1), "9" * 26, "4" * 40],
)
def test_positions_are_ascii_digits_within_a_stream_sequence(text: str) -> None:
    with pytest.raises(ValueError, match="position"):
        parse_position(text)


def test_cursors_and_last_event_ids_out_of_range_are_refused() -> None:
    assert parse_position(str(MAX_POSITION)) == MAX_POSITION
    assert parse_cursor(f"{MAX_POSITION}:0") == Cursor(MAX_POSITION, 0)
    for bad in ("99999999999999999999999:5", "5:99999999999999999999999", "-5", "5:-1"):
        with pytest.raises(ValueError, match="position"):
            parse_cursor(bad)
    assert sse.parse_last_event_id(" 41 ", None) == 41
    for digits in (26, 40):
        with pytest.raises(ValueError, match="position"):
            sse.parse_last_event_id("9" * digits, None)


def test_depth_is_refused_before_decoding() -> None:
    with pytest.raises(TooDeep, match="deeper than 32"):
        check_depth(b"[" * 100_000)
    with pytest.raises(TooDeep, match="deeper than 32"):
        check_depth(b'{"a":' * 33 + b"1" + b"}" * 33)
    with pytest.raises(TooDeep, match="deeper than 32"):
        check_depth(b"[{" * 17 + b"}]" * 17)  # 34 levels, alternating
    with pytest.raises(TooDeep, match="deeper than 4"):
        check_depth(b'["a", "[[[", [[[["\\"]]]"]]]]]', limit=4)
    check_depth(b'["a", "[[[", [[["\\"]]]"]]]]', limit=4)
    with pytest.raises(TooDeep, match="balance"):
        check_depth(b"[[1]")


@pytest.mark.parametrize(
    "document",
    [
        {"a": [1, 2, {"b": "]]]}}}"}], "c": "\\\\", "d": '"[{'},
        json.loads("[" * 32 + "]" * 32),
        {"env": {f"K{i}": "[" * 50 for i in range(100)}},
        "no brackets at all",
    ],
)
def test_shallow_documents_pass_whatever_their_strings_hold(document: Any) -> None:
    check_depth(json.dumps(document).encode())


def test_a_tenant_limit_speaks_of_that_tenant_and_the_global_one_of_no_one() -> None:
    limit = Limit(per_tenant=3, overall=10)
    admit_deployment(limit, tenant_active=2, all_active=9)
    with pytest.raises(ApiError) as own:
        admit_deployment(limit, tenant_active=3, all_active=3)
    assert own.value.code == ErrorCode.QUEUE_FULL and own.value.status == 429
    assert "your tenant has 3 deployments" in own.value.message
    with pytest.raises(ApiError) as full:
        admit_deployment(limit, tenant_active=0, all_active=10)
    assert full.value.code == ErrorCode.AT_CAPACITY and full.value.status == 503
    assert not any(ch.isdigit() for ch in full.value.message)
    with pytest.raises(ApiError) as conns:
        admit_connection(limit, tenant_open=3, all_open=4)
    assert conns.value.code == ErrorCode.TOO_MANY_CONNECTIONS and conns.value.status == 429
    with pytest.raises(ApiError) as busy:
        admit_connection(limit, tenant_open=1, all_open=10)
    assert busy.value.code == ErrorCode.AT_CAPACITY
    assert not any(ch.isdigit() for ch in busy.value.message)
    admit_subscription(20, 19)
    with pytest.raises(ApiError, match="at most 20 subscriptions"):
        admit_subscription(20, 20)
