"""The gateway's ops rules (ADR 0022), pure: the per-tenant rate, ids and digests."""

from __future__ import annotations

import pytest

from flightdeck.events.audit import OpsAction
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.ops import OpsRate, action_id_for, request_digest

pytestmark = pytest.mark.unit


def test_a_burst_then_one_action_per_interval_with_retry_after() -> None:
    rate = OpsRate(per_minute=6.0, burst=2)  # a token every 10 s

    rate.admit("acme", now=0.0)
    rate.admit("acme", now=0.0)
    with pytest.raises(ApiError) as refused:
        rate.admit("acme", now=4.0)
    rate.admit("globex", now=4.0)  # another tenant's bucket is its own
    rate.admit("acme", now=10.5)

    assert refused.value.code is ErrorCode.RATE_LIMITED and refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "6"}
    with pytest.raises(ApiError):
        rate.admit("acme", now=11.0)


def test_keys_are_per_tenant_and_digests_tell_requests_apart() -> None:
    scale = request_digest(OpsAction.SCALE, "web", "default", "", 3)

    assert action_id_for("acme", "k1") != action_id_for("globex", "k1")
    assert action_id_for("acme", "k1") == action_id_for("acme", "k1")
    assert scale == request_digest(OpsAction.SCALE, "web", "default", "", 3)
    assert scale != request_digest(OpsAction.SCALE, "web", "default", "", 4)
    assert scale != request_digest(OpsAction.RESTART_ROLLOUT, "web", "default", "", None)
