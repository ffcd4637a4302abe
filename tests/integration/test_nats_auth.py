"""NATS locked down (ADR 0013): who may do what on the server ``flightdeck up`` starts.

The server runs with the generated users and config, exactly as ``flightdeck
up`` starts it; each user's credentials work inside its subjects and are refused
outside them, and a client without credentials is refused outright.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.js import api

from flightdeck.cli.provisioning import nats_users, provision, service_buckets
from flightdeck.events import Codec, streams
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.eventstore.jetstream.wire import Client
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_credentials import NatsCredentials, new_seed, write_private
from flightdeck.runtime.nats_permissions import ADMIN, CLI, PROJECTOR, SERVICES
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.settings import NatsConfig, load_settings
from tests.support.cli import flightdeck
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

NON_ADMIN = (*SERVICES, CLI, PROJECTOR)


@dataclass
class Secured:
    server: NatsServer
    credentials: NatsCredentials
    admin: EventStore

    def config(self, user: str) -> NatsConfig:
        return NatsConfig(url=self.server.url, creds=self.credentials.seed(user))


@dataclass
class As:
    """A connection as one user, and what the server refused it."""

    nc: Client
    refusals: list[str]

    def refused(self, what: str) -> bool:
        """Whether the server refused something matching ``what`` (its error, any case)."""
        return any(what.lower() in r.lower() for r in self.refusals)


@pytest.fixture(scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secured]:
    root = Path(tmp_path_factory.mktemp("nats-auth"))
    credentials = NatsCredentials(root / "nats-auth").ensure(nats_users())
    server = await NatsServer(root / "store", auth=credentials).start()
    nc = await connect(
        NatsConfig(url=server.url, creds=credentials.admin), "test-admin", user=ADMIN
    )
    admin = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
    await provision(admin, JetStreamBuckets(nc), load_settings(), service_buckets())
    try:
        yield Secured(server, credentials, admin)
    finally:
        await nc.close()
        server.stop()


@pytest.fixture
async def login(secured: Secured) -> AsyncIterator[object]:
    opened: list[Client] = []

    async def as_user(user: str) -> As:
        refusals: list[str] = []
        nc = await connect(
            secured.config(user), f"test-{user}", user=user, on_refused=refusals.append
        )
        opened.append(nc)
        return As(nc, refusals)

    yield as_user
    for nc in opened:
        await nc.close()


async def _publish(who: As, subject: str, timeout: float = 5.0) -> bool:
    """Whether JetStream stored a message ``who`` appended to ``subject`` (a refused
    publish is never answered: it ends at ``timeout``)."""
    try:
        await who.nc.jetstream(timeout=timeout).publish(subject, b"{}")
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
        return False
    return True


async def _quiet(exc: Exception) -> None:
    pass


async def test_a_client_without_credentials_is_refused(secured: Secured) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            secured.server.url, allow_reconnect=False, max_reconnect_attempts=0, error_cb=_quiet
        )


async def test_a_seed_the_server_does_not_know_is_refused(secured: Secured, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.nk"
    write_private(stranger, new_seed())
    config = NatsConfig(url=secured.server.url, creds=stranger)
    with pytest.raises(ConnectionError, match="refused"):
        await connect(config, "test-stranger", timeout=3)


# Each user appends where it may (so a refusal below is about the subject, not the key).
OWN_SUBJECTS = [
    ("orchestrator", "fd.evt.deploy.d1"),
    ("orchestrator", "fd.evt.app.default.hello"),
    ("orchestrator", "fd.cmd.prober.verify-colour"),
    ("k8s-watcher", "fd.evt.k8s.default.pod.hello-1"),
    ("ecr-poller", "fd.evt.ecr.hello.v1"),
    ("prober", "fd.evt.probe.d1"),
    ("log-relay", "fd.evt.log.default.hello.hello-1"),
    ("gateway", "fd.cmd.orchestrator.start"),
    ("admin", "fd.evt.access.acme"),
]

# ... and is refused everywhere else.
FOREIGN_SUBJECTS = [
    ("log-relay", "fd.evt.deploy.x"),
    ("log-relay", "fd.evt.k8s.default.pod.x"),
    ("log-relay", "fd.evt.access.acme"),
    ("gateway", "fd.evt.deploy.x"),
    ("gateway", "fd.evt.k8s.default.pod.x"),
    ("gateway", "fd.evt.ecr.hello.v1"),
    ("gateway", "fd.evt.log.default.hello.x"),
    ("gateway", "fd.evt.probe.d1"),
    ("gateway", "fd.evt.access.acme"),
    ("gateway", "fd.dlq.orchestrator"),
    ("orchestrator", "fd.evt.access.acme"),
    ("orchestrator", "fd.evt.k8s.default.pod.x"),
    ("orchestrator", "fd.evt.log.default.hello.x"),
    ("k8s-watcher", "fd.evt.deploy.x"),
    ("k8s-watcher", "fd.evt.access.acme"),
    ("ecr-poller", "fd.evt.deploy.x"),
    ("ecr-poller", "fd.evt.access.acme"),
    ("prober", "fd.evt.deploy.x"),
    ("prober", "fd.evt.access.acme"),
    ("cli", "fd.evt.deploy.x"),
    ("cli", "fd.evt.access.acme"),
    ("projector", "fd.evt.access.acme"),
]


@pytest.mark.parametrize(("user", "subject"), OWN_SUBJECTS)
async def test_each_user_may_append_its_own_events(login, user: str, subject: str) -> None:
    who = await login(user)
    assert await _publish(who, subject), who.refusals


@pytest.mark.parametrize(("user", "subject"), FOREIGN_SUBJECTS)
async def test_each_user_is_refused_outside_its_subjects(
    login, secured: Secured, user: str, subject: str
) -> None:
    who = await login(user)
    before = await secured.admin.last_position(subject)
    assert not await _publish(who, subject, timeout=0.25)
    await eventually(lambda: who.refused(f'publish to "{subject}"'), within=10)
    assert await secured.admin.last_position(subject) == before  # nothing stored


async def _stream_admin(nc: Client, operation: str) -> None:
    js = nc.jetstream(timeout=0.25)
    match operation:
        case "purge":
            await js.purge_stream(streams.AUDIT)
        case "delete-stream":
            await js.delete_stream(streams.LOGS)
        case "delete-message":
            subject = f"$JS.API.STREAM.MSG.DELETE.{streams.AUDIT}"
            await nc.request(subject, b'{"seq": 1}', timeout=0.25)
        case "update-stream":
            info = await js.stream_info(streams.DEPLOYMENTS)
            await js.update_stream(info.config.evolve(max_age=1.0))
        case "create-stream":
            # a republishing stream would write anywhere, around every permission
            await js.add_stream(
                api.StreamConfig(
                    name="KV_evil",
                    subjects=["$KV.evil.>"],
                    republish=api.RePublish(src="$KV.evil.x", dest="fd.evt.access.acme"),
                )
            )
        case "delete-consumer":
            await js.delete_consumer(streams.COMMANDS, "prober-commands")


STREAM_ADMIN = (
    "purge",
    "delete-stream",
    "delete-message",
    "update-stream",
    "create-stream",
    "delete-consumer",
)


@pytest.mark.parametrize("operation", STREAM_ADMIN)
@pytest.mark.parametrize("user", NON_ADMIN)
async def test_only_admin_may_manage_streams(login, user: str, operation: str) -> None:
    who = await login(user)
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await _stream_admin(who.nc, operation)
    await eventually(lambda: who.refused('publish to "$JS.API.'), within=10)


async def test_a_service_cannot_take_another_services_commands(login, secured: Secured) -> None:
    await secured.admin.nc.jetstream().add_consumer(
        streams.COMMANDS,
        api.ConsumerConfig(durable_name="prober-commands", ack_policy=api.AckPolicy.EXPLICIT),
    )
    gateway = await login("gateway")
    js = gateway.nc.jetstream(timeout=0.25)
    sub = await js.pull_subscribe_bind("prober-commands", streams.COMMANDS)
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await sub.fetch(1, timeout=0.25)
    await eventually(lambda: gateway.refused("prober-commands"), within=10)


async def test_a_service_cannot_read_another_users_replies(login) -> None:
    relay = await login("log-relay")
    await relay.nc.subscribe("_INBOX.gateway.>")
    # the refusal comes back as an asynchronous error
    await eventually(lambda: relay.refused('subscription to "_INBOX.gateway.>"'), within=10)


async def test_tokens_create_needs_the_admin_credentials(secured: Secured) -> None:
    base = {"FLIGHTDECK_NATS__URL": secured.server.url}
    args = ("tokens", "create", "--tenant", "acme", "--scope", "admin")
    for user in ("gateway", "cli"):
        env = {**base, "FLIGHTDECK_NATS__CREDS": str(secured.credentials.seed(user))}
        refused = await flightdeck(*args, env=env)
        assert refused.code != 0
        assert "refused" in refused.err and "admin credentials" in refused.err, refused.err
        assert len(refused.err.strip().splitlines()) == 1, refused.err
    env = {**base, "FLIGHTDECK_NATS__CREDS": str(secured.credentials.admin)}
    created = await flightdeck(*args, env=env)
    assert created.code == 0, created.err
    assert "fdk_" in created.out


def test_credentials_are_private_from_their_creation_and_kept(tmp_path: Path) -> None:
    users = nats_users()
    credentials = NatsCredentials(tmp_path / "state" / "nats-auth").ensure(users)
    assert credentials.directory.stat().st_mode & 0o777 == 0o700
    files = sorted(credentials.directory.iterdir())
    assert {f.name for f in files} == {f"{u}.nk" for u in users} | {"authorization.conf"}
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    seeds = {u: credentials.seed(u).read_bytes() for u in users}
    again = NatsCredentials(credentials.directory).ensure(users)  # a restart
    assert {u: again.seed(u).read_bytes() for u in users} == seeds
    assert again.server_config.stat().st_mode & 0o777 == 0o600
