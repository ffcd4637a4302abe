"""Panda's deploy body, and the ``imageRepository`` default (issue 14, items 4 and 7; ADR 0024)."""

from __future__ import annotations

import msgspec
import pytest

from flightdeck.gateway.domain.deploy import app_name_for, named, plan, request_digest
from flightdeck.gateway.domain.errors import ApiError
from flightdeck.gateway.schemas import DeployCreate

pytestmark = pytest.mark.unit

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
PANDA = (
    b'{"githubConnectionId":"gh1","awsConnectionId":"aws1","owner":"acme","repo":"web",'
    b'"branch":"main"}'
)


def decode(body: bytes) -> DeployCreate:
    return msgspec.json.decode(body, type=DeployCreate)


def test_panda_s_literal_body_plans_the_repo_as_app_and_image_at_the_branch_head() -> None:
    req = named(decode(PANDA))
    command = plan(
        req,
        deployment_id="d1",
        tenant="acme",
        commit_sha=SHA,
        github_branch="main",
        github_repository=("acme", "web"),
        aws_account=("123456789012", "eu-west-1"),
    )
    assert (command.app, command.repository, command.tag) == ("web", "web", SHA)
    assert (command.github_owner, command.github_repo, command.branch) == ("acme", "web", "main")
    assert command.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert (command.github_connection_id, command.aws_connection_id) == ("gh1", "aws1")


def test_an_image_tag_alone_takes_the_app_name_as_its_repository() -> None:
    # documented since the start; the API answered 400 "imageTag needs imageRepository"
    req = named(decode(b'{"appName":"shop","imageTag":"v7"}'))
    command = plan(req, deployment_id="d1", tenant="acme")
    assert (command.repository, command.tag) == ("shop", "v7")


@pytest.mark.parametrize(
    ("repo", "app"),
    [("web", "web"), ("My_Service.js", "my-service-js"), ("-x-", "x"), ("a" * 60, "a" * 53)],
)
def test_an_app_is_named_after_its_repo_as_a_dns_label(repo: str, app: str) -> None:
    assert app_name_for(repo) == app


def test_an_explicit_app_name_wins_over_the_repo() -> None:
    req = named(decode(PANDA[:-1] + b',"appName":"site"}'))
    assert req.app_name == "site"


def test_the_same_request_with_or_without_the_repo_s_implied_name_is_one_request() -> None:
    implied = named(decode(PANDA))
    spelt = named(decode(PANDA[:-1] + b',"appName":"web"}'))
    assert request_digest(implied) == request_digest(spelt)


def test_digests_of_requests_from_before_panda_s_fields_are_unchanged() -> None:
    # an Idempotency-Key retried across the upgrade must not turn into a CONFLICT
    req = named(decode(b'{"appName":"web","imageRepository":"web","imageTag":"v1"}'))
    assert request_digest(req) == (
        "43086086918d002bc8f2572fe60e05cbb23b85a64a257d99137aff896fb93ad3"
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"githubConnectionId":"g","owner":"acme","branch":"main"}', "give both"),
        (b'{"githubConnectionId":"g","repo":"web","branch":"main"}', "give both"),
        (b'{"imageTag":"v1","owner":"acme","repo":"web"}', "need githubConnectionId"),
        (b'{"githubConnectionId":"g","branch":"main"}', "appName: required"),
        (b'{"githubConnectionId":"g","owner":"a","repo":"...","branch":"main"}', "repo:"),
        (b'{"appName":"web"}', "either imageTag"),
    ],
)
def test_bad_panda_bodies_are_refused_naming_the_field(body: bytes, says: str) -> None:
    with pytest.raises(ApiError) as refused:
        named(decode(body))
    assert refused.value.code == "VALIDATION_ERROR"
    assert says in refused.value.message
