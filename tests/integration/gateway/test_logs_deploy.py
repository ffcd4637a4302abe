"""A deployment's SSE stream with ``?include=logs``: its pods' error lines show why it failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.events import subjects
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageStarted,
    colour_name,
)
from tests.integration.gateway.conftest import CAUSE, Gateway, new_deployment
from tests.integration.gateway.test_logs_world import LogReader, batch, publish, unique_app
from tests.support.samples import progressed
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def rollout_started() -> StageStarted:
    return StageStarted(stage=Stage.ROLLOUT, deadline=datetime.now(UTC) + timedelta(minutes=10))


def failed() -> tuple[StageFailed, DeploymentFailed]:
    return (
        StageFailed(
            stage=Stage.ROLLOUT,
            error_code="CRASH_LOOP_BACK_OFF",
            message="container app keeps crashing",
            duration_ms=900,
        ),
        DeploymentFailed(
            stage=Stage.ROLLOUT,
            error_code="CRASH_LOOP_BACK_OFF",
            message="container app keeps crashing",
            rolled_back=True,
            serving_colour=Colour.BLUE,
            total_duration_ms=1200,
        ),
    )


async def crash_logs(gw: Gateway, app: str) -> list[int]:
    """The new colour's pods crash; the old colour's and older lines must not show."""
    now = datetime.now(UTC)
    green = batch(
        app,
        f"{colour_name(app, Colour.GREEN)}-7d9f-x2",
        "app",
        [
            ("INFO", "stdout", "booting", now),
            ("ERROR", "stderr", "missing DATABASE_URL", now),
            ("FATAL", "stderr", "exit 1", now),
        ],
    )
    older = batch(
        app,
        f"{colour_name(app, Colour.GREEN)}-0000-old",
        "app",
        [("ERROR", "stderr", "from an earlier deployment", now - timedelta(hours=1))],
    )
    blue = batch(
        app,
        f"{colour_name(app, Colour.BLUE)}-5c4b-q1",
        "app",
        [("ERROR", "stderr", "blue is fine", now)],
    )
    return await publish(gw, app, older, green, blue)


async def test_a_late_client_sees_stages_then_why_then_the_verdict(gateway: Gateway) -> None:
    # arrange: a failed deployment whose pods logged why
    app = unique_app("fail")
    assigned = ColourAssigned(colour=Colour.GREEN, previous_colour=Colour.BLUE)
    dep, positions = await new_deployment(gateway.store, assigned, rollout_started(), app=app)
    log_positions = await crash_logs(gateway, app)
    result = await gateway.store.append(subjects.deployment(dep), list(failed()), cause=CAUSE)
    final = result.last_position
    # act
    path = f"/api/v1/deploy/{dep}/events"
    async with LogReader(gateway, path, {"include": "logs"}) as reader:

        async def closed() -> bool:
            return reader.closed

        await eventually(closed)
    # assert: stages, then the green pods' ERROR/FATAL lines, then the error event
    kinds = [m.event for m in reader.messages]
    assert kinds == ["stage", "stage", "stage", "stage", "log", "log", "error"]
    assert reader.texts() == ["missing DATABASE_URL", "exit 1"]
    green_at = log_positions[1]
    ids = [m.id for m in reader.messages]
    # ids carry both cursors: <deployment position>/<log cursor>
    assert ids[0] == f"{positions[0]}/{log_positions[0] - 1}"
    assert ids[4:6] == [f"{final - 1}/{green_at}:1", f"{final - 1}/{green_at}:2"]
    assert ids[6] == f"{final}/{log_positions[-1]}"
    assert reader.messages[-1].data["errorCode"] == "CRASH_LOOP_BACK_OFF"
    # and without include=logs the stream is the plain Panda one
    async with LogReader(gateway, path) as plain:
        await eventually(closed_reader(plain))
    assert [m.event for m in plain.messages] == ["stage"] * 4 + ["error"]
    assert [m.id for m in plain.messages][-1] == str(final)


def closed_reader(reader: LogReader):  # type: ignore[no-untyped-def]
    async def closed() -> bool:
        return reader.closed

    return closed


async def test_live_lines_arrive_as_they_happen_and_resume_is_exact(gateway: Gateway) -> None:
    # arrange: a client watching from the start
    app = unique_app("live")
    dep, _ = await new_deployment(gateway.store, app=app)
    path = f"/api/v1/deploy/{dep}/events"
    async with LogReader(gateway, path, {"include": "logs"}) as reader:
        await eventually(lambda: _has(reader, 1))
        # act: the colour is assigned, pods log, the deployment fails
        assigned = ColourAssigned(colour=Colour.GREEN, previous_colour=None)
        await gateway.store.append(
            subjects.deployment(dep), [assigned, rollout_started()], cause=CAUSE
        )
        await eventually(lambda: _has(reader, 3))
        await crash_logs(gateway, app)
        await reader.wait_for("exit 1")
        await gateway.store.append(subjects.deployment(dep), list(failed()), cause=CAUSE)
        await eventually(closed_reader(reader))
    assert [m.event for m in reader.messages] == ["stage"] * 3 + ["log", "log", "stage", "error"]
    assert reader.texts() == ["missing DATABASE_URL", "exit 1"]
    # a reconnect after the first log line gets exactly the rest
    seen = reader.messages[3].id
    async with LogReader(gateway, path, {"include": "logs"}, {"Last-Event-ID": seen}) as again:
        await eventually(closed_reader(again))
    # (history is replayed source by source, the verdict last: the order may differ from live)
    assert [m.event for m in again.messages] == ["stage", "log", "error"]
    assert again.texts() == ["exit 1"]
    assert {m.data.get("text", m.data.get("message")) for m in again.messages} == {
        m.data.get("text", m.data.get("message")) for m in reader.messages[4:]
    }


async def _has(reader: LogReader, count: int) -> bool:
    return len(reader.messages) >= count


async def test_include_takes_only_logs_and_checks_the_tenant(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, progressed(1), app=unique_app("inc"))
    theirs, _ = await new_deployment(gateway.store, tenant="globex", app=unique_app("inc"))
    async with gateway.client("acme-read") as client:
        bad = await client.get(f"/api/v1/deploy/{dep}/events", params={"include": "metrics"})
        foreign = await client.get(f"/api/v1/deploy/{theirs}/events", params={"include": "logs"})
        cursor = await client.get(
            f"/api/v1/deploy/{dep}/events",
            params={"include": "logs", "lastEventId": "5/x:1"},
        )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "VALIDATION_ERROR"
    assert foreign.status_code == 400 and foreign.json()["errorCode"] == "DEPLOYMENT_NOT_FOUND"
    assert cursor.status_code == 400 and cursor.json()["errorCode"] == "VALIDATION_ERROR"
