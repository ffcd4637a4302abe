"""Tenancy's pure rules (ADR 0012): who may deploy where, and what recording a tenant appends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flightdeck.events import subjects
from flightdeck.events.tenancy import NamespaceAssigned, TenantCreated, TenantNamespacesAdded
from flightdeck.runtime.tenancy import (
    Refusal,
    TenancyError,
    TenantSettings,
    deploy_refusal,
    plan_tenant,
    protected_namespaces,
)

pytestmark = pytest.mark.unit
PROTECTED = protected_namespaces("flightdeck")
WATCHED = frozenset({"team-a", "team-b"})


def refusal(
    namespace: str, owner: str | None, app_owner: str | None = None, tenant: str = "a"
) -> Refusal | None:
    return deploy_refusal(
        tenant,
        namespace,
        namespace_owner=owner,
        app_owner=app_owner,
        protected=PROTECTED,
        watched=WATCHED,
    )


def test_a_tenant_deploys_into_its_own_watched_namespace() -> None:
    assert refusal("team-a", owner="a") is None
    assert refusal("team-a", owner="a", app_owner="a") is None


@pytest.mark.parametrize(
    "namespace", ["kube-system", "kube-public", "kube-node-lease", "flightdeck"]
)
def test_reserved_namespaces_are_refused_whoever_claims_to_own_them(namespace: str) -> None:
    assert refusal(namespace, owner="a") is Refusal.PROTECTED
    assert refusal(namespace, owner=None) is Refusal.PROTECTED


def test_another_tenants_namespace_and_nobodys_are_refused_alike() -> None:
    assert refusal("team-b", owner="b") is Refusal.NOT_OWNED
    assert refusal("team-b", owner=None) is Refusal.NOT_OWNED


def test_an_app_claimed_by_another_tenant_is_refused_even_in_an_own_namespace() -> None:
    assert refusal("team-a", owner="a", app_owner="b") is Refusal.APP_NOT_OWNED


def test_an_own_namespace_that_is_not_watched_says_so() -> None:
    assert refusal("team-c", owner="a") is Refusal.NOT_WATCHED
    unchecked = deploy_refusal(
        "a", "team-c", namespace_owner="a", app_owner=None, protected=PROTECTED, watched=None
    )
    assert unchecked is None


def test_only_an_unwatched_own_namespace_may_tell_the_caller_more_than_not_found() -> None:
    assert [r for r in Refusal if not r.foreign] == [Refusal.NOT_WATCHED]


def test_ownership_comes_before_watching_so_nothing_foreign_is_described() -> None:
    assert refusal("team-c", owner="b") is Refusal.NOT_OWNED  # team-c is unwatched too
    assert refusal("kube-system", owner="b") is Refusal.PROTECTED


def plan(namespaces: list[str], *, position: int = 0, **owners: str | None):  # type: ignore[no-untyped-def]
    return plan_tenant(
        "a",
        namespaces,
        position=position,
        owners={k.replace("_", "-"): v for k, v in owners.items()},
        protected=PROTECTED,
    )


def test_a_new_tenant_takes_its_namespaces_in_one_checked_batch() -> None:
    made = plan(["team-a", "team-x"], team_a=None, team_x=None)
    assert made.created and made.added == ["team-a", "team-x"]
    assert made.appends == [
        (subjects.tenant("a"), TenantCreated(tenant="a", namespaces=["team-a", "team-x"]), 0),
        (subjects.namespace("team-a"), NamespaceAssigned(namespace="team-a", tenant="a"), 0),
        (subjects.namespace("team-x"), NamespaceAssigned(namespace="team-x", tenant="a"), 0),
    ]


def test_an_existing_tenant_adds_only_what_it_does_not_own_after_its_last_event() -> None:
    more = plan(["team-a", "team-x"], position=41, team_a="a", team_x=None)
    assert (more.created, more.added) == (False, ["team-x"])
    assert more.appends == [
        (subjects.tenant("a"), TenantNamespacesAdded(tenant="a", namespaces=["team-x"]), 41),
        (subjects.namespace("team-x"), NamespaceAssigned(namespace="team-x", tenant="a"), 0),
    ]
    assert plan(["team-a"], position=41, team_a="a").appends == []


@pytest.mark.parametrize(
    ("namespaces", "owners", "message"),
    [
        (["team-b"], {"team_b": "b"}, "namespace team-b already belongs to tenant b"),
        (["kube-system"], {}, "namespace kube-system is reserved"),
        (["Team_A"], {}, "must be a DNS label"),
        (["x" * 64], {}, "must be a DNS label"),
        (["team-a", "team-a"], {}, "named twice"),
    ],
)
def test_what_cannot_be_recorded_is_a_clear_error(
    namespaces: list[str], owners: dict[str, str], message: str
) -> None:
    with pytest.raises(TenancyError, match=message):
        plan(namespaces, **owners)


def test_create_and_add_refuse_the_wrong_kind_of_tenant() -> None:
    kw = {"owners": {}, "protected": PROTECTED}
    with pytest.raises(TenancyError, match="already exists"):
        plan_tenant("a", ["n"], position=3, must_be_new=True, **kw)  # type: ignore[arg-type]
    with pytest.raises(TenancyError, match="no tenant a"):
        plan_tenant("a", ["n"], position=0, must_exist=True, **kw)  # type: ignore[arg-type]
    with pytest.raises(TenancyError, match="tenant name"):
        plan_tenant("Acme Corp", ["n"], position=0, **kw)  # type: ignore[arg-type]


def test_settings_refuse_reserved_and_shared_namespaces() -> None:
    with pytest.raises(ValidationError, match="reserved"):
        TenantSettings(configured={"a": ["kube-public"]})
    with pytest.raises(ValidationError, match="reserved"):
        TenantSettings(system_namespace="ops", configured={"a": ["ops"]})
    with pytest.raises(ValidationError, match="given to both"):
        TenantSettings(configured={"a": ["shared"], "b": ["shared"]})
    assert TenantSettings(system_namespace="ops").protected() == {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "ops",
    }


def test_dev_mode_gives_default_to_the_dev_tenant_unless_configured_otherwise() -> None:
    assert TenantSettings().with_dev_tenant("dev") == {"dev": ["default"]}
    assert TenantSettings().with_dev_tenant(None) == {}
    taken = TenantSettings(configured={"acme": ["default"]})
    assert taken.with_dev_tenant("dev") == {"acme": ["default"]}
    own = TenantSettings(configured={"dev": ["dev-apps"]})
    assert own.with_dev_tenant("dev") == {"dev": ["dev-apps"]}
