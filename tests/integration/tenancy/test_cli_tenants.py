"""``flightdeck tenants`` as a user runs it: create, add, list, sync, and one-line errors."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from flightdeck.cli.app import app
from flightdeck.runtime.nats_server import NatsServer
from tests.support.cli import Result, flightdeck

pytestmark = pytest.mark.integration


def run_id() -> str:
    return uuid.uuid4().hex[:8]


async def tenants(nats: NatsServer, *args: str, **env: str) -> Result:
    return await flightdeck("tenants", *args, env={"FLIGHTDECK_NATS__URL": nats.url, **env})


def one_line_error(result: Result, code: int = 1) -> str:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    return result.err


async def test_create_add_and_list(nats_server: NatsServer) -> None:
    run = run_id()
    name, ns, more = f"team-{run}", f"team-{run}-a", f"team-{run}-b"
    created = await tenants(nats_server, "create", name, "--namespaces", ns)
    assert created.code == 0, created.err
    assert f"tenant {name} created, owning {ns}" in created.out
    assert "not watched" in created.err  # only default is watched here: a warning, not an error
    added = await tenants(nats_server, "add-namespaces", name, "--namespaces", f"{ns},{more}")
    assert added.code == 0 and f"tenant {name}: {more}" in added.out, added.err
    listed = await tenants(nats_server, "list", "--format", "json")
    (mine,) = [t for t in json.loads(listed.out) if t["tenant"] == name]
    assert [n["namespace"] for n in mine["namespaces"]] == [ns, more]
    assert mine["createdAt"].endswith("+00:00")
    table = await tenants(nats_server, "list")
    assert name in table.out and f"{ns}, {more}" in table.out


def test_refusals_are_one_line_and_store_nothing(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in-process (CliRunner): each subprocess costs seconds of imports on a loaded machine
    monkeypatch.setenv("FLIGHTDECK_NATS__URL", nats_server.url)
    monkeypatch.setenv("COLUMNS", "80")
    runner = CliRunner()
    run = run_id()
    owner, other = f"owner-{run}", f"other-{run}"
    ns = f"ns-{run}"
    assert runner.invoke(app, ["tenants", "create", owner, "--namespaces", ns]).exit_code == 0
    cases = [
        (("create", owner, "--namespaces", f"x-{run}"), f"tenant {owner} already exists"),
        (
            ("create", other, "--namespaces", ns),
            f"namespace {ns} already belongs to tenant {owner}",
        ),
        (("create", other, "--namespaces", "kube-system"), "reserved"),
        (("create", other, "--namespaces", "flightdeck"), "reserved"),
        (("create", "Not_A_Name", "--namespaces", f"y-{run}"), "tenant name"),
        (("create", other, "--namespaces", f"Bad.NS-{run}-with-a-long-tail"), "DNS label"),
        (("create", other, "--namespaces", " , "), "at least one namespace"),
        (("add-namespaces", other, "--namespaces", f"z-{run}"), f"no tenant {other}"),
        (("list", "--format", "yaml"), "--format must be table or json"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["tenants", *args])
        assert result.exit_code != 0, (args, result.output)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr, (args, result.stderr)
    listed = runner.invoke(app, ["tenants", "list", "-f", "json"])
    assert other not in [t["tenant"] for t in json.loads(listed.stdout)]


async def test_sync_records_the_configured_tenants_once(nats_server: NatsServer) -> None:
    run = run_id()
    configured = json.dumps({f"cfg-{run}": [f"cfg-{run}"]})
    env = {"FLIGHTDECK_TENANTS__CONFIGURED": configured}
    first = await tenants(nats_server, "sync", **env)
    second = await tenants(nats_server, "sync", **env)
    assert first.code == 0 and f"tenant cfg-{run}: cfg-{run}" in first.out, first.err
    assert second.code == 0 and f"tenant cfg-{run}: unchanged" in second.out, second.err
    bad = await tenants(
        nats_server, "sync", FLIGHTDECK_TENANTS__CONFIGURED='{"x": ["kube-system"]}'
    )
    assert "FLIGHTDECK_TENANTS__CONFIGURED" in one_line_error(bad, 2)
