"""flightdeck.client and the people CLI against the real gateway (real HTTP, real NATS)."""

from __future__ import annotations

import json

import pytest

from flightdeck.client import Flightdeck, FlightdeckError, Reconnect
from flightdeck.events.deployments import Colour, DeploymentCompleted, DeploymentFailed, Stage
from tests.integration.gateway.conftest import Gateway, new_deployment
from tests.support.cli import flightdeck
from tests.support.samples import progressed
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def done() -> DeploymentCompleted:
    return DeploymentCompleted(
        colour=Colour.GREEN, url="http://web.local", stage_durations_ms={}, total_duration_ms=9
    )


def client(gateway: Gateway, who: str = "acme-admin") -> Flightdeck:
    return Flightdeck(gateway.url, gateway.tokens[who], reconnect=Reconnect(delay_s=0.05))


def cli_env(gateway: Gateway, who: str = "acme-admin") -> dict[str, str]:
    return {"FLIGHTDECK_URL": gateway.url, "FLIGHTDECK_TOKEN": gateway.tokens[who]}


async def test_a_finished_deployments_stream_ends_after_done_and_resumes_exactly(
    gateway: Gateway,
) -> None:
    dep, positions = await new_deployment(gateway.store, progressed(0), progressed(1), done())
    async with client(gateway) as fd:
        stream = fd.deployment_events(dep)
        events = [e async for e in stream]
        resumed = [e async for e in fd.deployment_events(dep, last_event_id=str(positions[1]))]
        result = await eventually(lambda: _finished(fd, dep), what="the result")

    assert [int(e.id) for e in events] == positions
    assert events[-1].event == "done" and stream.finished_by == "terminal"
    assert stream.connections == 1
    assert [int(e.id) for e in resumed] == positions[2:]
    assert (result.status, result.phase) == ("COMPLETED", "SUCCEEDED")
    assert result.deployment_id == dep


async def _finished(fd: Flightdeck, dep: str):  # type: ignore[no-untyped-def]
    result = await fd.result(dep)
    return result if result.finished else None


async def test_another_tenants_deployment_is_unknown_to_the_client(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, done(), tenant="globex", app="web")
    async with client(gateway) as fd:
        with pytest.raises(FlightdeckError) as refused:
            await fd.result(dep)
        with pytest.raises(FlightdeckError) as stream_refused:
            _ = [e async for e in fd.deployment_events(dep)]
    assert refused.value.code == stream_refused.value.code == "DEPLOYMENT_NOT_FOUND"


async def test_status_of_a_deployment_and_of_an_app_as_json(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store, progressed(0), done(), app="statusapp")
    async with client(gateway) as fd:
        await eventually(lambda: _finished(fd, dep), what="the result")

    by_id = await flightdeck("status", dep, "--format", "json", env=cli_env(gateway))
    by_app = await flightdeck("status", "statusapp", "--format", "json", env=cli_env(gateway))
    listed = await flightdeck("status", "--format", "json", "--limit", "200", env=cli_env(gateway))

    assert by_id.code == 0, by_id.err
    assert json.loads(by_id.out)["phase"] == "SUCCEEDED"
    app_view = json.loads(by_app.out)
    assert app_view["latest"]["deploymentId"] == dep
    assert [d["deploymentId"] for d in app_view["deployments"]] == [dep]
    assert dep in {json.loads(line)["deploymentId"] for line in listed.out.splitlines()}


async def test_status_refusals_are_one_line_and_non_zero(gateway: Gateway) -> None:
    other, _ = await new_deployment(gateway.store, done(), tenant="globex", app="secret")

    unknown = await flightdeck("status", "no-such-thing", env=cli_env(gateway))
    cross = await flightdeck("status", other, env=cli_env(gateway))
    bad_format = await flightdeck("status", "--format", "xml", env=cli_env(gateway))
    bad_key = await flightdeck(
        "status", env={"FLIGHTDECK_URL": gateway.url, "FLIGHTDECK_TOKEN": "fdk_nope"}
    )

    for result, code in ((unknown, 1), (cross, 1), (bad_format, 2), (bad_key, 1)):
        assert result.code == code, result
        assert len(result.err.strip().splitlines()) == 1, result.err
    assert "no deployment or app named 'no-such-thing'" in unknown.err
    assert cross.err.replace(other, "X") == unknown.err.replace("no-such-thing", "X")
    assert "UNAUTHORIZED" in bad_key.err


async def test_a_failed_deployment_shows_its_error_code(gateway: Gateway) -> None:
    failed = DeploymentFailed(
        stage=Stage.ROLLOUT,
        error_code="CRASH_LOOP",
        message="the container keeps crashing",
        rolled_back=True,
        serving_colour=None,
        total_duration_ms=5,
    )
    dep, _ = await new_deployment(gateway.store, failed, app="failing")
    async with client(gateway) as fd:
        await eventually(lambda: _finished(fd, dep), what="the result")

    shown = await flightdeck("status", dep, env=cli_env(gateway))

    assert shown.code == 0
    assert "FAILED" in shown.out and "CRASH_LOOP" in shown.out


async def test_logs_of_an_unknown_app_and_bad_filters_are_refused(gateway: Gateway) -> None:
    unknown = await flightdeck("logs", "no-such-app", env=cli_env(gateway))
    bad_since = await flightdeck("logs", "web", "--since", "yesterday", env=cli_env(gateway))
    bad_grep = await flightdeck("logs", "web", "--grep", "(", env=cli_env(gateway))
    bad_level = await flightdeck("logs", "web", "--level", "LOUD", env=cli_env(gateway))

    assert unknown.code == 1 and "APP_NOT_FOUND" in unknown.err
    assert bad_since.code == 2 and "--since" in bad_since.err
    assert bad_grep.code == 2 and "--grep" in bad_grep.err
    assert bad_level.code == 1 and "INVALID_LOG_FILTER" in bad_level.err
    for result in (unknown, bad_since, bad_grep, bad_level):
        assert len(result.err.strip().splitlines()) == 1, result.err
