"""Ops actions in the read model (ADR 0022): ``ops_actions`` on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from flightdeck.events import Cause, new_id, streams, subjects
from flightdeck.events.audit import OpsAction, OpsActionFailed, OpsActionRequested
from flightdeck.eventstore import EventStore
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import Projector
from tests.integration.readmodel.support import snapshot

pytestmark = pytest.mark.integration


async def test_a_request_and_its_outcome_make_one_row_naming_who_asked(
    store: EventStore, database: Database
) -> None:
    action_id, app = new_id(), f"web{new_id()[:6]}"
    subject = subjects.ops("acme", app)
    request = OpsActionRequested(
        action_id=action_id,
        tenant="acme",
        app=app,
        action=OpsAction.RESTART_POD,
        namespace="default",
        target=f"{app}-blue-x1",
    )
    await store.append(subject, [request], cause=Cause.root("ada-laptop"))
    failed = OpsActionFailed(
        action_id=action_id,
        action=OpsAction.RESTART_POD,
        namespace="default",
        target=f"{app}-blue-x1",
        error_code="POD_NOT_FOUND",
        message='delete pod: 404 NotFound: pods "x1" not found',
    )
    await store.append(subject, [failed], cause=Cause.root("service:orchestrator"))

    await Projector(store, database, streams=[streams.AUDIT]).catch_up()

    (row,) = [r for r in (await snapshot(database))["ops_actions"] if r["id"] == action_id]
    assert (row["tenant"], row["app"], row["action"], row["target"]) == (
        "acme",
        app,
        "restart_pod",
        f"{app}-blue-x1",
    )
    assert (row["status"], row["error_code"], row["requested_by"]) == (
        "FAILED",
        "POD_NOT_FOUND",
        "ada-laptop",
    )
    assert "404 NotFound" in row["message"] and "finishedAt" in row["detail"]
