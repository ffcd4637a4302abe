"""``flightdeck tokens create|list|revoke`` and ``flightdeck config``'s key check, as a user runs them."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.events import subjects
from flightdeck.events.audit import ApiTokenCreated, ApiTokenRevoked
from flightdeck.eventstore import EventStore
from flightdeck.runtime.nats_server import NatsServer
from tests.support.cli import Result, flightdeck

pytestmark = pytest.mark.integration


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


async def cli(nats_server: NatsServer, *args: str, **env: str) -> Result:
    return await flightdeck(*args, env={"FLIGHTDECK_NATS__URL": nats_server.url, **env})


def one_line_error(result: Result) -> str:
    assert result.code != 0, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def created_key(result: Result) -> tuple[str, str]:
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    return lines[0].split()[1], lines[-1].strip()  # "token <id> for …", the key


@pytest.mark.parametrize("days", ["0", "-3"])
async def test_a_key_must_expire_at_least_a_day_out(
    nats_server: NatsServer, store: EventStore, days: str
) -> None:
    who = tenant()
    result = await cli(
        nats_server,
        "tokens",
        "create",
        "--tenant",
        who,
        "--scope",
        "read",
        "--expires-in-days",
        days,
    )
    assert "--expires-in-days" in one_line_error(result)
    assert await store.read(subjects.access(who)) == []  # nothing was minted


async def test_an_expiring_key_records_its_expiry(
    nats_server: NatsServer, store: EventStore
) -> None:
    who = tenant()
    before = datetime.now(UTC)
    token_id, _ = created_key(
        await cli(
            nats_server, "tokens", "create", "--tenant", who, "--scope", "read",
            "--expires-in-days", "1",
        )
    )  # fmt: skip
    [recorded] = await store.read(subjects.access(who))
    assert isinstance(recorded.event, ApiTokenCreated) and recorded.event.token_id == token_id
    assert recorded.event.expires_at is not None
    assert (
        before + timedelta(days=1)
        <= recorded.event.expires_at
        <= datetime.now(UTC) + timedelta(days=1)
    )


async def test_keys_are_listed_without_their_secret_and_revoked_by_id(
    nats_server: NatsServer, store: EventStore
) -> None:
    acme, globex = tenant(), tenant()
    first, first_key = created_key(
        await cli(
            nats_server, "tokens", "create", "--tenant", acme, "--scope", "read", "--name", "ci"
        )
    )
    second, _ = created_key(
        await cli(
            nats_server, "tokens", "create", "--tenant", acme, "--scope", "deploy",
            "--scope", "ops", "--expires-in-days", "30",
        )
    )  # fmt: skip
    other, _ = created_key(
        await cli(nats_server, "tokens", "create", "--tenant", globex, "--scope", "admin")
    )

    # act: revoke one
    revoked = await cli(nats_server, "tokens", "revoke", first)
    assert revoked.code == 0, revoked.err
    assert first in revoked.out

    # assert: the event, then the listing
    events = [r.event for r in await store.read(subjects.access(acme))]
    assert ApiTokenRevoked(token_id=first, tenant=acme) in events
    listed = await cli(nats_server, "tokens", "list", "--tenant", acme, "--format", "json")
    assert listed.code == 0, listed.err
    rows = {row["id"]: row for row in map(json.loads, listed.out.splitlines())}
    assert set(rows) == {first, second}  # the other tenant's key is not listed
    assert rows[first]["name"] == "ci" and rows[first]["scopes"] == ["read"]
    assert rows[second]["scopes"] == ["deploy", "ops"]
    for row in rows.values():
        created = datetime.fromisoformat(row["created"])
        assert created.utcoffset() is not None  # RFC 3339 with an offset
        assert set(row) == {"id", "tenant", "name", "scopes", "created", "expires", "revoked"}
    assert rows[first]["revoked"] is not None and rows[second]["revoked"] is None
    assert rows[first]["expires"] is None
    assert datetime.fromisoformat(rows[second]["expires"]).utcoffset() is not None
    hashes = {e.token_hash for e in events if isinstance(e, ApiTokenCreated)}
    assert first_key not in listed.out and not any(h in listed.out for h in hashes)

    table = await cli(nats_server, "tokens", "list")
    assert table.code == 0 and first in table.out and other in table.out
    assert first_key not in table.out and not any(h in table.out for h in hashes)


async def test_revoking_an_unknown_key_or_twice_says_so(
    nats_server: NatsServer, store: EventStore
) -> None:
    unknown = await cli(nats_server, "tokens", "revoke", "no-such-token")
    assert "no-such-token" in one_line_error(unknown)
    who = tenant()
    token_id, _ = created_key(
        await cli(nats_server, "tokens", "create", "--tenant", who, "--scope", "read")
    )
    assert (await cli(nats_server, "tokens", "revoke", token_id)).code == 0
    again = await cli(nats_server, "tokens", "revoke", token_id)
    assert again.code == 0 and "already revoked" in again.out
    revocations = [
        r for r in await store.read(subjects.access(who)) if isinstance(r.event, ApiTokenRevoked)
    ]
    assert len(revocations) == 1


async def test_a_bad_format_is_refused(nats_server: NatsServer) -> None:
    assert "--format" in one_line_error(await cli(nats_server, "tokens", "list", "--format", "xml"))


async def test_config_refuses_a_secrets_key_that_is_not_32_bytes() -> None:
    short = base64.b64encode(b"12345").decode()
    result = await flightdeck("config", env={"FLIGHTDECK_SECRETS__KEY": short})
    line = one_line_error(result)
    assert "FLIGHTDECK_SECRETS__KEY" in line and short not in line


async def test_config_accepts_a_good_key_and_shows_it_hidden() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    result = await flightdeck("config", env={"FLIGHTDECK_SECRETS__KEY": key})
    assert result.code == 0, result.err
    assert key not in result.out and "FLIGHTDECK_SECRETS__KEYS" in result.out
