"""``flightdeck replay`` and ``flightdeck projection rebuild`` as a user runs them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.audit import OpsAction, OpsActionRequested, OpsActionSucceeded
from flightdeck.events.deployments import Stage, StageStarted, StageSucceeded
from flightdeck.eventstore import EventStore
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import Projector
from tests.integration.readmodel.support import snapshot
from tests.support.cli import flightdeck
from tests.support.samples import T0, requested

pytestmark = pytest.mark.integration


@pytest.fixture
async def deployment(store: EventStore) -> str:
    dep = new_id()
    subject = subjects.deployment(dep)
    root = Cause.root("user:ada")
    first = await store.append(subject, [requested(dep)], cause=root, expected=0)
    (req,) = await store.read(subject)
    await store.append(
        subject,
        [
            StageStarted(stage=Stage.ARTIFACT, deadline=T0),
            StageSucceeded(stage=Stage.ARTIFACT, duration_ms=1500),
        ],
        cause=root.because_of(req, actor="service:orchestrator"),
        expected=first.last_position,
    )
    return dep


def env(nats_server) -> dict[str, str]:
    return {"FLIGHTDECK_NATS__URL": nats_server.url}


async def test_replay_prints_a_table_in_order_with_actor_and_cause(
    nats_server, deployment: str
) -> None:
    result = await flightdeck("replay", deployment, env=env(nats_server))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    order = [
        next(i for i, line in enumerate(lines) if t in line)
        for t in ("deploy.requested", "deploy.stage_started", "deploy.stage_succeeded")
    ]
    assert order == sorted(order)
    assert "service:orchestrator" in result.out and "user:ada" in result.out
    assert "artifact succeeded in 1.5s" in result.out


async def test_replay_json_is_one_object_per_line(
    nats_server, deployment: str, store: EventStore
) -> None:
    result = await flightdeck("replay", deployment, "--format", "json", env=env(nats_server))
    assert result.code == 0, result.err
    objects = [json.loads(line) for line in result.out.splitlines()]
    assert [o["type"] for o in objects] == [
        "deploy.requested",
        "deploy.stage_started",
        "deploy.stage_succeeded",
    ]
    assert objects[1]["causationId"] == objects[0]["id"]
    assert objects[0]["event"]["deployment_id"] == deployment
    assert [o["position"] for o in objects] == sorted(o["position"] for o in objects)


async def test_replay_json_times_are_rfc3339_with_an_offset(nats_server, deployment: str) -> None:
    result = await flightdeck("replay", deployment, "--format", "json", env=env(nats_server))
    objects = [json.loads(line) for line in result.out.splitlines()]
    times = [o["time"] for o in objects] + [objects[1]["event"]["deadline"]]
    offset = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
    assert [t for t in times if not offset.fullmatch(t)] == []


async def test_replay_time_bounds(nats_server, deployment: str, store: EventStore) -> None:
    events = await store.read(subjects.deployment(deployment))
    second = events[1].time
    since = (second - timedelta(microseconds=1)).isoformat()
    result = await flightdeck(
        "replay", deployment, "-f", "json", "--since", since, env=env(nats_server)
    )
    assert [json.loads(x)["type"] for x in result.out.splitlines()] == [
        "deploy.stage_started",
        "deploy.stage_succeeded",
    ]
    until = (events[0].time).isoformat()
    result = await flightdeck(
        "replay", deployment, "-f", "json", "--until", until, env=env(nats_server)
    )
    assert [json.loads(x)["type"] for x in result.out.splitlines()] == ["deploy.requested"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["replay", "no-such-deployment"], 1, "deployment 'no-such-deployment' not found"),
        (["replay", "x", "--since", "yesterday"], 2, "--since: not an ISO 8601 time"),
        (  # longer than a terminal's 80 columns: still one line
            ["replay", "x", "--since", "the day before yesterday, around noon"],
            2,
            "--since: not an ISO 8601 time",
        ),
        (["replay", "x", "--until", "2026-13-01"], 2, "--until: not an ISO 8601 time"),
        (
            ["replay", "x", "--since", "2026-11-26T00:00:00Z", "--until", "2026-11-25T00:00:00Z"],
            2,
            "is after --until",
        ),
        (["replay", "x", "--format", "xml"], 2, "--format: must be table or json"),
    ],
)
async def test_replay_bad_input_is_one_line_and_non_zero(nats_server, args, code, message) -> None:
    result = await flightdeck(*args, env={**env(nats_server), "COLUMNS": "80"})
    assert result.code == code
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


async def test_rebuild_command_prints_its_rate_and_matches_live(
    nats_server, store: EventStore, database: Database, database_url: str, deployment: str
) -> None:
    await Projector(store, database).catch_up()
    live = await snapshot(database)
    result = await flightdeck(
        "projection", "rebuild", env={**env(nats_server), "FLIGHTDECK_DATABASE_URL": database_url}
    )
    assert result.code == 0, result.err
    assert "rebuilt from sequence 1" in result.out and "events/s" in result.out
    assert await snapshot(database) == live


async def test_replay_of_an_app_shows_each_ops_action_with_its_actor(
    nats_server, store: EventStore
) -> None:
    app = f"shop{new_id()[:6]}"
    subject = subjects.ops("acme", app)
    asked = OpsActionRequested(
        action_id="act-1",
        tenant="acme",
        app=app,
        action=OpsAction.SCALE,
        namespace="default",
        target="",
        replicas=3,
    )
    await store.append(subject, [asked], cause=Cause.root("ada-laptop"))
    done = OpsActionSucceeded(
        action_id="act-1",
        action=OpsAction.SCALE,
        namespace="default",
        target="",
        detail={"replicas": 3},
    )
    await store.append(subject, [done], cause=Cause.root("service:orchestrator"))

    table = await flightdeck("replay", "--app", app, env=env(nats_server))
    lines = await flightdeck("replay", "--app", app, "--format", "json", env=env(nats_server))
    both = await flightdeck("replay", "x", "--app", app, env=env(nats_server))

    assert table.code == 0, table.err
    assert "ops.action_requested" in table.out and "ada-laptop" in table.out
    assert f"ops scale {app} to 3 asked" in table.out
    records = [json.loads(line) for line in lines.out.splitlines()]
    assert [(r["type"], r["actor"]) for r in records] == [
        ("ops.action_requested", "ada-laptop"),
        ("ops.action_succeeded", "service:orchestrator"),
    ]
    assert both.code == 2 and "not both" in both.err
