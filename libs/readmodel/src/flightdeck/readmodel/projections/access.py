"""Ops actions, connections and API tokens, from the FD_AUDIT stream.

Connections keep their metadata only: the sealed secrets stay in the stream,
where the services that need them read them.
"""

from __future__ import annotations

from typing import Any

from flightdeck.events import subjects
from flightdeck.events.audit import (
    ApiTokenCreated,
    ApiTokenRevoked,
    AwsConnectionCreated,
    GithubConnectionCreated,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.envelope import Recorded
from flightdeck.readmodel.projections.base import Projection, Touch
from flightdeck.readmodel.rows import RowSet


def _ops(recorded: Recorded[Any]) -> list[Touch]:
    return [("ops_actions", (recorded.event.action_id,))]


def _ops_row(recorded: Recorded[Any], **outcome: Any) -> dict[str, Any]:
    e = recorded.event
    parts = subjects.tokens(recorded.subject)  # fd.evt.ops.<tenant>.<app>
    return {
        "id": e.action_id,
        "tenant": parts[3],
        "app": parts[4],
        "action": e.action.value,
        "namespace": e.namespace,
        "target": e.target,
        "requested_by": recorded.actor,
        "at": recorded.time,
        **outcome,
    }


def ops_requested(rows: RowSet, recorded: Recorded[Any]) -> None:
    """A new action is ``PENDING`` until its outcome; ``requested_by`` is who asked."""
    e: OpsActionRequested = recorded.event
    if rows.get("ops_actions", (e.action_id,)) is not None:
        return  # the first request of an action id is the one that counts
    detail: dict[str, Any] = {"replicas": e.replicas} if e.replicas is not None else {}
    row = _ops_row(recorded, status="PENDING", error_code=None, message=None, detail=detail)
    rows.put("ops_actions", (e.action_id,), row)


def _ops_outcome(rows: RowSet, recorded: Recorded[Any], **outcome: Any) -> None:
    """The outcome completes the request's row (who asked, and when, stay the request's);
    an outcome without a request (recorded before requests were) is a row of its own."""
    e = recorded.event
    before = rows.get("ops_actions", (e.action_id,))
    if before is None:
        rows.put("ops_actions", (e.action_id,), _ops_row(recorded, **outcome))
        return
    detail = {**before.get("detail", {}), **outcome.pop("detail"), "finishedAt": _iso(recorded)}
    rows.update("ops_actions", (e.action_id,), detail=detail, **outcome)


def _iso(recorded: Recorded[Any]) -> str:
    return recorded.time.isoformat().replace("+00:00", "Z")


def ops_succeeded(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: OpsActionSucceeded = recorded.event
    _ops_outcome(
        rows, recorded, status="SUCCEEDED", error_code=None, message=None, detail=dict(e.detail)
    )


def ops_failed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: OpsActionFailed = recorded.event
    _ops_outcome(
        rows, recorded, status="FAILED", error_code=e.error_code, message=e.message, detail={}
    )


def _connection(recorded: Recorded[Any]) -> list[Touch]:
    return [("connections", (recorded.event.connection_id,))]


def _connection_row(recorded: Recorded[Any], kind: str, details: dict[str, Any]) -> dict[str, Any]:
    e = recorded.event
    return {
        "id": e.connection_id,
        "tenant": e.tenant,
        "kind": kind,
        "details": details,
        "created_by": recorded.actor,
        "created_at": recorded.time,
    }


def aws_connection(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: AwsConnectionCreated = recorded.event
    details = {
        "accountId": e.account_id,
        "arn": e.arn,
        "region": e.region,
        "accessKeyHint": e.access_key_hint,
    }
    rows.put("connections", (e.connection_id,), _connection_row(recorded, "aws", details))


def github_connection(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: GithubConnectionCreated = recorded.event
    details = {"owner": e.owner, "repo": e.repo, "branch": e.branch}
    rows.put("connections", (e.connection_id,), _connection_row(recorded, "github", details))


def _token(recorded: Recorded[Any]) -> list[Touch]:
    return [("api_tokens", (recorded.event.token_id,))]


def token_created(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: ApiTokenCreated = recorded.event
    rows.put(
        "api_tokens",
        (e.token_id,),
        {
            "id": e.token_id,
            "tenant": e.tenant,
            "name": e.name,
            "scopes": list(e.scopes),
            "token_hash": e.token_hash,
            "created_at": recorded.time,
            "expires_at": e.expires_at,
            "revoked_at": None,
        },
    )


def token_revoked(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: ApiTokenRevoked = recorded.event
    rows.update("api_tokens", (e.token_id,), revoked_at=recorded.time)


PROJECTIONS: dict[type, Projection] = {
    OpsActionRequested: Projection(_ops, ops_requested),
    OpsActionSucceeded: Projection(_ops, ops_succeeded),
    OpsActionFailed: Projection(_ops, ops_failed),
    AwsConnectionCreated: Projection(_connection, aws_connection),
    GithubConnectionCreated: Projection(_connection, github_connection),
    ApiTokenCreated: Projection(_token, token_created),
    ApiTokenRevoked: Projection(_token, token_revoked),
}
