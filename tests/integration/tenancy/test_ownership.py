"""Ownership on real JetStream: first writer wins, atomically, and replay shows who and since when."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from flightdeck.events import Cause, ConcurrencyError, subjects
from flightdeck.events.tenancy import NamespaceAssigned, TenantCreated, TenantNamespacesAdded
from flightdeck.eventstore import EventStore
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.tenancy import TenancyError, protected_namespaces

pytestmark = pytest.mark.integration
CAUSE = Cause.root("user:tests")
PROTECTED = protected_namespaces("flightdeck")


def names(prefix: str, count: int = 1) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"{prefix}-{run}-{i}" for i in range(count)]


async def test_one_namespace_gets_one_tenant_when_two_ask_at_once(store: EventStore) -> None:
    (ns,) = names("contested")
    tenants = names("racer", 8)
    ownership = Ownership(store)

    async def ask(tenant: str) -> str:
        try:
            await ownership.record_tenant(tenant, [ns], CAUSE, protected=PROTECTED)
        except TenancyError as exc:
            return str(exc)
        return "won"

    outcomes = await asyncio.gather(*(ask(t) for t in tenants))
    winner = tenants[outcomes.index("won")]
    assert outcomes.count("won") == 1, outcomes
    assert all(
        o == f"namespace {ns} already belongs to tenant {winner}" for o in outcomes if o != "won"
    )
    assert await ownership.namespace_owner(ns) == winner
    assert [type(r.event) for r in await store.read(subjects.namespace(ns))] == [NamespaceAssigned]
    losers = [t for t in tenants if t != winner]
    assert [await store.last_position(subjects.tenant(t)) for t in losers] == [0] * len(losers)


async def test_a_refused_tenant_stores_nothing_at_all(store: EventStore) -> None:
    free, taken = names("free", 2)
    first, second = names("tenant", 2)
    ownership = Ownership(store)
    await ownership.record_tenant(first, [taken], CAUSE, protected=PROTECTED)
    with pytest.raises(TenancyError, match=f"{taken} already belongs to tenant {first}"):
        await ownership.record_tenant(second, [free, taken], CAUSE, protected=PROTECTED)
    assert await store.last_position(subjects.tenant(second)) == 0
    assert await ownership.namespace_owner(free) is None


async def test_the_atomic_append_checks_every_subject(store: EventStore) -> None:
    mine, theirs = names("atomic", 2)
    (tenant,) = names("t")
    await store.append(
        subjects.namespace(theirs), [NamespaceAssigned(namespace=theirs, tenant="x")], cause=CAUSE
    )
    with pytest.raises(ConcurrencyError):
        await store.append_together(
            [
                (
                    subjects.tenant(tenant),
                    TenantCreated(tenant=tenant, namespaces=[mine, theirs]),
                    0,
                ),
                (subjects.namespace(mine), NamespaceAssigned(namespace=mine, tenant=tenant), 0),
                (subjects.namespace(theirs), NamespaceAssigned(namespace=theirs, tenant=tenant), 0),
            ],
            cause=CAUSE,
        )
    assert await store.last_position(subjects.tenant(tenant)) == 0
    assert await store.last_position(subjects.namespace(mine)) == 0


async def test_adding_namespaces_then_listing_shows_who_owns_what_since_when(
    store: EventStore,
) -> None:
    (tenant,) = names("lister")
    a, b = names("ns", 2)
    ownership = Ownership(store)
    created = await ownership.record_tenant(tenant, [a], CAUSE, protected=PROTECTED)
    again = await ownership.record_tenant(tenant, [a], CAUSE, protected=PROTECTED)
    added = await ownership.record_tenant(tenant, [a, b], CAUSE, protected=PROTECTED)
    assert (created.created, created.added) == (True, [a])
    assert again.appends == []
    assert (added.created, added.added) == (False, [b])
    history = await store.read(subjects.tenant(tenant))
    assert [type(r.event) for r in history] == [TenantCreated, TenantNamespacesAdded]
    (listed,) = [t for t in await ownership.tenants() if t.name == tenant]
    assert listed.created_at == history[0].time
    assert [ns for ns, _ in listed.namespaces] == [a, b]
    assert listed.namespaces[0][1] <= listed.namespaces[1][1]


async def test_an_app_is_claimed_once_and_the_loser_learns_the_winner(store: EventStore) -> None:
    (ns,) = names("apps")
    ownership = Ownership(store)
    results = await asyncio.gather(
        *(ownership.claim_app(t, ns, "web", f"dep-{t}", CAUSE) for t in ("one", "two", "three"))
    )
    owner = await ownership.app_owner(ns, "web")
    assert owner in ("one", "two", "three")
    assert results == [owner] * 3
    assert len(await store.read(subjects.claim(ns, "web"))) == 1


async def test_configured_tenants_are_recorded_once_and_a_conflict_names_the_setting(
    store: EventStore,
) -> None:
    (ns,) = names("configured")
    first, second = names("cfg", 2)
    ownership = Ownership(store)
    await ownership.record_configured({first: [ns]}, CAUSE, protected=PROTECTED)
    unchanged = await ownership.record_configured({first: [ns]}, CAUSE, protected=PROTECTED)
    assert unchanged[first].appends == []
    with pytest.raises(TenancyError, match=r"^FLIGHTDECK_TENANTS__CONFIGURED: namespace"):
        await ownership.record_configured({second: [ns]}, CAUSE, protected=PROTECTED)
    skipped = await ownership.record_configured(
        {second: [ns]}, CAUSE, protected=PROTECTED, lenient=[second]
    )
    assert skipped == {}
