"""Settings from the environment, as operators write them."""

from __future__ import annotations

import pytest

from flightdeck.orchestrator.config import OrchestratorSettings

pytestmark = pytest.mark.unit


def test_settings_come_from_prefixed_variables_and_deployment_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLIGHTDECK_ORCHESTRATOR__SWITCH_DELAY_S", "1.5")
    monkeypatch.setenv("DEPLOYMENT_TIMEOUT", "120")
    policy = OrchestratorSettings().policy()
    assert (policy.switch_delay_s, policy.max_timeout_s) == (1.5, 120.0)


def test_no_deployment_timeout_leaves_each_request_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEPLOYMENT_TIMEOUT", raising=False)
    monkeypatch.delenv("FLIGHTDECK_ORCHESTRATOR__DEPLOYMENT_TIMEOUT_S", raising=False)
    assert OrchestratorSettings().policy().max_timeout_s is None
