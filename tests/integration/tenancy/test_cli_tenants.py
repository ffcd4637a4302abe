"""``flightdeck tenants`` as a user runs it: create, add, list, sync, and one-line errors."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

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
    assert mine["plan"] == "free"
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


def test_plan_is_recorded_on_the_tenant_and_refusals_store_nothing(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from flightdeck.events import subjects
    from flightdeck.runtime.plans import Plan, limits_of

    monkeypatch.setenv("FLIGHTDECK_NATS__URL", nats_server.url)
    monkeypatch.setenv("COLUMNS", "120")
    runner = CliRunner()
    run = run_id()
    name = f"plan-{run}"
    assert runner.invoke(app, ["tenants", "create", name, "--namespaces", name]).exit_code == 0
    cases = [
        (("plan", name, "gold"), "unknown plan 'gold'"),
        (("plan", name, "free", "--max-monitors", "9"), "fixed limits"),
        (("plan", name, "max", "--min-interval", "0"), "--min-interval"),
        (("plan", f"nobody-{run}", "pro"), f"no tenant nobody-{run}"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["tenants", *args])
        assert result.exit_code != 0, (args, result.output)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr, (args, result.stderr)
    ok = runner.invoke(
        app, ["tenants", "plan", name, "max", "--max-monitors", "7", "--min-interval", "5"]
    )
    assert ok.exit_code == 0, ok.output
    assert f"tenant {name}: plan max (7 monitors, interval >= 5 s" in ok.stdout
    listed = runner.invoke(app, ["tenants", "list", "-f", "json"])
    (mine,) = [t for t in json.loads(listed.stdout) if t["tenant"] == name]
    assert mine["plan"] == "max"

    async def stored() -> list[object]:
        from flightdeck.cli.connect import event_store, settings_or_exit
        from flightdeck.runtime.ownership import Ownership

        async with event_store(settings_or_exit()) as store:
            events = [r.event for r in await store.read(subjects.tenant(name))]
            plan = await Ownership(store).plan_of(name)
        assert plan is not None
        limits = limits_of(plan)
        assert (limits.plan, limits.max_monitors, limits.min_interval_s) == (Plan.MAX, 7, 5)
        return events

    events = asyncio.run(stored())
    assert [type(e).__name__ for e in events] == ["TenantCreated", "TenantPlanSet"]


def test_flightdeck_up_puts_the_dev_tenant_on_max_with_a_5_second_floor_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On its own NATS: the dev tenant owns ``default``, which other tests of the run's
    shared server may have given to another tenant (then no dev tenant, and no plan)."""
    import asyncio

    from rich.console import Console

    from flightdeck.events import subjects
    from flightdeck.events.tenancy import TenantPlanSet
    from flightdeck.runtime.plans import DEV_LIMITS, limits_of

    monkeypatch.setenv("FLIGHTDECK_TENANTS__CONFIGURED", "{}")
    dev = f"dev-{run_id()}"

    async def start_twice() -> list[TenantPlanSet]:
        from flightdeck.cli.connect import event_store, settings_or_exit
        from flightdeck.cli.tenants import record_at_start

        own = await NatsServer(tmp_path / "nats").start()
        monkeypatch.setenv("FLIGHTDECK_NATS__URL", own.url)
        try:
            async with event_store(settings_or_exit()) as store:
                quiet = Console(file=io.StringIO())
                await record_at_start(store, quiet, dev_tenant=dev)
                await record_at_start(store, quiet, dev_tenant=dev)
                events = [r.event for r in await store.read(subjects.tenant(dev))]
        finally:
            own.stop()
        return [e for e in events if isinstance(e, TenantPlanSet)]

    (plan,) = asyncio.run(start_twice())
    assert limits_of(plan) == DEV_LIMITS
