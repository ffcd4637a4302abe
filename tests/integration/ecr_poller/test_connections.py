"""The poller opens a deployment's AWS connection from the audit stream."""

from __future__ import annotations

import base64
import os

import msgspec
import pytest

from flightdeck.ecr_poller.adapters.connections import AwsConnections, ConnectionUnusable
from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.audit import AwsConnectionCreated
from flightdeck.eventstore import EventStore
from flightdeck.runtime.sealing import Sealer, SecretsSettings, connection_binding

pytestmark = pytest.mark.integration


def sealer() -> Sealer:
    return Sealer.from_settings(SecretsSettings(key=base64.b64encode(os.urandom(32)).decode()))


async def record(store: EventStore, seal: Sealer, tenant: str) -> str:
    connection_id = new_id()
    secret = msgspec.json.encode(
        {"accessKeyId": "AKIAEXAMPLE0000001", "secretAccessKey": "s3cr3t", "sessionToken": None}
    ).decode()
    await store.append(
        subjects.access(tenant),
        [
            AwsConnectionCreated(
                connection_id=connection_id,
                tenant=tenant,
                account_id="123456789012",
                arn="arn:aws:iam::123456789012:user/ci",
                region="eu-west-1",
                access_key_hint="AKIA…0001",
                secret=seal.seal(secret, connection_binding(tenant, connection_id)),
            )
        ],
        cause=Cause.root("user:ada"),
    )
    return connection_id


async def test_a_connection_opens_into_session_keys_and_region(store: EventStore) -> None:
    seal = sealer()
    connection_id = await record(store, seal, "acme")
    kwargs = await AwsConnections(store, seal).session_kwargs(connection_id)
    assert kwargs == {
        "aws_access_key_id": "AKIAEXAMPLE0000001",
        "aws_secret_access_key": "s3cr3t",
        "region_name": "eu-west-1",
    }


async def test_unknown_connections_and_wrong_keys_are_refused(store: EventStore) -> None:
    connection_id = await record(store, sealer(), "acme")
    with pytest.raises(ConnectionUnusable, match="does not exist"):
        await AwsConnections(store, sealer()).session_kwargs("no-such-connection")
    with pytest.raises(ConnectionUnusable, match="not configured"):
        await AwsConnections(store, sealer()).session_kwargs(connection_id)  # another key
    with pytest.raises(ConnectionUnusable, match="FLIGHTDECK_SECRETS__KEY"):
        await AwsConnections(store, None).session_kwargs(connection_id)
