"""Rotating the secrets key: seal under A, rotate to B with A in the ring, drop A, still open.

The whole path an operator takes: connections made through a gateway holding
key A (plus one recorded before connections had their own subjects, on
``fd.evt.access``), ``flightdeck secrets rotate`` run with B current and A old,
then a gateway and the ecr-poller's reader holding B alone. The GitHub token
and the AWS secret must still open, and no stream, read model or output may
ever hold them in clear.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from nats.aio.client import Client as NATS

from flightdeck.ecr_poller.adapters.connections import AwsConnections, ConnectionUnusable
from flightdeck.events import Cause, Codec, declare, new_id, streams, subjects
from flightdeck.events.audit import AwsConnectionCreated, ConnectionResealed
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.gateway.config import GatewayConfig
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.sealing import Sealer, SecretsSettings, connection_binding, derive_key
from tests.integration.gateway.conftest import GITHUB_SHA, GITHUB_TOKEN, create_token
from tests.integration.gateway.instances import another_gateway
from tests.support.cli import flightdeck
from tests.support.intake import command_intake
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

TENANT = "rotating"
AWS_SECRET = f"rotation-secret-{os.urandom(6).hex()}"
LEGACY_SECRET = f"legacy-secret-{os.urandom(6).hex()}"


@pytest.fixture
async def own(tmp_path: Path) -> AsyncIterator[tuple[NatsServer, NATS, EventStore]]:
    """A NATS of this test's own: rotation re-seals every connection there is."""
    server = await NatsServer(tmp_path / "nats").start()
    nc = await connect(server.url, "rotation-tests")
    store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
    await store.ensure_streams(declare())
    # the rotating tenant deploys into a namespace of its own (ADR 0012)
    await Ownership(store).record_tenant(
        TENANT, ["default"], Cause.root("user:tests"), protected=frozenset()
    )
    yield server, nc, store
    await nc.close()
    server.stop()


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def legacy_connection(store: EventStore, key_a: str) -> str:
    """An AWS connection as recorded before the ring: on ``fd.evt.access``, key id ``k1``."""
    sealer = Sealer({"k1": derive_key(base64.b64decode(key_a), "sealing")}, "k1")
    connection_id = new_id()
    secret = msgspec.json.encode(
        {"accessKeyId": "AKIALEGACY0000000001", "secretAccessKey": LEGACY_SECRET}
    ).decode()
    event = AwsConnectionCreated(
        connection_id=connection_id,
        tenant=TENANT,
        account_id="123456789012",
        arn="arn:aws:iam::123456789012:user/legacy",
        region="us-east-1",
        access_key_hint="AKIA…0001",
        secret=sealer.seal(secret, connection_binding(TENANT, connection_id)),
    )
    await store.append(subjects.access(TENANT), [event], cause=Cause.root("user:tests"))
    return connection_id


async def every_stored_byte(nc: NATS) -> bytes:
    """Every message of the audit stream, raw, headers included."""
    js = nc.jetstream()
    info = await js.stream_info(streams.AUDIT)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(streams.AUDIT, seq)
        except Exception:  # a gap (deleted message)
            continue
        out.append(msg.data or b"")
        out.append(repr(msg.headers).encode())
    return b"".join(out)


async def test_connections_survive_a_key_rotation_and_the_old_key_can_go(
    own: tuple[NatsServer, NATS, EventStore],
    tmp_path: Path,
    github_url: str,
    moto_url: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    nats_server, nc, store = own
    key_a, key_b = new_key(), new_key()
    config = GatewayConfig(github_api_url=github_url, gc_freeze=False, deploy_concurrency=1000)
    aws = AwsSettings(endpoint_url=moto_url)

    # arrange: connections sealed under A, through a gateway
    async with another_gateway(
        store, tmp_path / "a.db", config, SecretsSettings(key=key_a), aws
    ) as (url_a, built_a):
        key = await create_token(store, built_a, TENANT, ["admin"])
        async with httpx.AsyncClient(
            base_url=url_a, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            github = await client.post(
                "/api/v1/connect/github",
                json={"owner": "acme", "repo": "web", "branch": "main", "token": GITHUB_TOKEN},
            )
            assert github.status_code == 201, github.text
            github_id = github.json()["data"]["githubConnectionId"]
            made = await client.post(
                "/api/v1/connect/aws",
                json={
                    "accessKeyId": "AKIAROTATION00000001",
                    "secretAccessKey": AWS_SECRET,
                    "region": "eu-west-1",
                },
            )
            assert made.status_code == 201, made.text
            aws_id = made.json()["data"]["awsConnectionId"]
    legacy_id = await legacy_connection(store, key_a)
    # new connections have their own subject; the access subject keeps API tokens
    on_conn = {
        getattr(r.event, "connection_id", None)
        for r in await store.read(subjects.connections(TENANT))
    }
    assert {github_id, aws_id} <= on_conn

    # act: rotate to B, with A in the ring
    env = {
        "FLIGHTDECK_NATS__URL": nats_server.url,
        "FLIGHTDECK_SECRETS__KEY": key_b,
        "FLIGHTDECK_SECRETS__KEYS": key_a,
    }
    rotated = await flightdeck("secrets", "rotate", env=env)
    assert rotated.code == 0, rotated.err
    resealed = [
        r.event
        for r in await store.read(subjects.connections(TENANT))
        if isinstance(r.event, ConnectionResealed)
    ]
    assert {e.connection_id for e in resealed} == {github_id, aws_id, legacy_id}
    b_only = Sealer.from_settings(SecretsSettings(key=key_b))
    assert all(e.secret.key_id == b_only.key_id for e in resealed)
    again = await flightdeck("secrets", "rotate", env=env)
    assert again.code == 0, again.err
    assert len(await store.read(subjects.connections(TENANT))) == len(on_conn) + 3  # nothing more

    # assert: with A removed, the ecr-poller's reader and a gateway still open them
    poller = AwsConnections(store, b_only)
    assert (await poller.session_kwargs(aws_id))["aws_secret_access_key"] == AWS_SECRET
    assert (await poller.session_kwargs(legacy_id))["aws_secret_access_key"] == LEGACY_SECRET
    with pytest.raises(ConnectionUnusable):  # and A alone no longer can (B sealed them)
        await AwsConnections(
            store, Sealer.from_settings(SecretsSettings(key=key_a))
        ).session_kwargs(aws_id)
    async with (
        command_intake(store),  # the orchestrator's part of the deploy's 202
        another_gateway(store, tmp_path / "b.db", config, SecretsSettings(key=key_b), aws) as (
            url_b,
            built_b,
        ),
    ):
        key = await create_token(store, built_b, TENANT, ["admin"])
        async with httpx.AsyncClient(
            base_url=url_b, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:

            async def deployed() -> httpx.Response | None:
                answer = await client.post(
                    "/api/v1/deploy",
                    json={"appName": "rotated", "githubConnectionId": github_id, "branch": "main"},
                )
                return answer if answer.status_code == 202 else None

            accepted = await eventually(deployed, what="a deploy through the resealed token")
            assert accepted.json()["data"]["image"] == f"rotated:{GITHUB_SHA}"

    # and the secrets were never stored or printed in clear
    stored = await every_stored_byte(nc)
    logged = capfd.readouterr()  # what the gateways and the poller's reader logged here
    for secret in (AWS_SECRET, LEGACY_SECRET, GITHUB_TOKEN, key_a, key_b):
        assert secret.encode() not in stored
        assert secret not in rotated.out + rotated.err + again.out + again.err
        assert secret not in logged.out + logged.err
    read_models = read_files(tmp_path)
    assert AWS_SECRET.encode() not in read_models and GITHUB_TOKEN.encode() not in read_models


def read_files(directory: Path) -> bytes:
    """The read models' files (database, WAL), raw."""
    return b"".join(p.read_bytes() for p in sorted(directory.glob("[ab].db*")))


async def test_rotation_without_the_old_key_says_which_connections_it_cannot_open(
    own: tuple[NatsServer, NATS, EventStore],
) -> None:
    nats_server, _, store = own
    lost = await legacy_connection(store, new_key())
    result = await flightdeck(
        "secrets", "rotate",
        env={"FLIGHTDECK_NATS__URL": nats_server.url, "FLIGHTDECK_SECRETS__KEY": new_key()},
    )  # fmt: skip
    assert result.code != 0
    assert lost in result.err and "FLIGHTDECK_SECRETS__KEYS" in result.err
