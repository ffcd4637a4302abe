"""``flightdeck tokens create`` makes a key the gateway accepts, storing only its hash."""

from __future__ import annotations

import pytest

from flightdeck.cli import tokens
from flightdeck.events import subjects
from flightdeck.events.apikeys import hash_api_key
from flightdeck.events.audit import ApiTokenCreated
from flightdeck.runtime.nats_server import NatsServer
from tests.integration.gateway.conftest import Gateway
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_cli_key_works_and_only_its_hash_is_stored(
    gateway: Gateway, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLIGHTDECK_NATS__URL", nats_server.url)
    key, token_id = await tokens._create("cli-tenant", ["read"], "ci", None)
    stored = [
        r.event
        for r in await gateway.store.read(subjects.access("cli-tenant"))
        if isinstance(r.event, ApiTokenCreated) and r.event.token_id == token_id
    ]
    assert stored and stored[0].token_hash == hash_api_key(key)
    assert key not in repr(stored[0])
    async with gateway.client(None) as client:
        client.headers["Authorization"] = f"Bearer {key}"

        async def accepted() -> bool:
            return (await client.get("/api/v1/deployments")).status_code == 200

        await eventually(accepted)
        refused = await client.post("/api/v1/deploy", json={"appName": "x"})
        assert refused.status_code == 403
