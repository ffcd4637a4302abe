"""The permission table itself (ADR 0013), read the way nats-server reads it.

The integration test proves the server enforces it; this one checks the whole
table against the rules, for every user and every area, without a server.
"""

from __future__ import annotations

import pytest

from flightdeck.runtime.nats_credentials import new_seed, public_key, server_config
from flightdeck.runtime.nats_permissions import ADMIN, SERVICES, BucketSpec, Permissions, users

BUCKETS = {
    "k8s-watcher": [BucketSpec("fd_leases", 10.0)],
    "log-relay": [BucketSpec("fd_log_leases", 15.0), BucketSpec("fd_log_cursors")],
}
USERS = users(BUCKETS)
NON_ADMIN = [u for u in USERS if u != ADMIN]


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, ``>`` one or more at the end."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)


def may_publish(rights: Permissions, subject: str) -> bool:
    return any(matches(p, subject) for p in rights.publish)


# Where each area's events come from; nobody else may write there.
WRITERS = {
    "fd.evt.access.acme": {ADMIN},
    "fd.evt.tenant.acme": {ADMIN},
    "fd.evt.namespace.default": {ADMIN},
    "fd.evt.k8s.default.pod.web-1": {ADMIN, "k8s-watcher"},
    "fd.evt.ecr.web.v1": {ADMIN, "ecr-poller"},
    "fd.evt.probe.d1": {ADMIN, "prober"},
    "fd.evt.log.default.web.web-1": {ADMIN, "log-relay"},
    "fd.evt.deploy.d1": {ADMIN, "orchestrator"},
    "fd.evt.app.default.web": {ADMIN, "orchestrator"},
    "fd.evt.conn.acme": {ADMIN, "gateway"},
    "fd.evt.claim.default.web": {ADMIN, "gateway"},
    "fd.evt.monitor.m1": {ADMIN},
    "fd.evt.ops.acme.web": {ADMIN, "orchestrator"},  # ops outcomes (ADR 0022)
    "fd.dlq.orchestrator": {ADMIN, "orchestrator"},
    "fd.dlq.prober": {ADMIN, "prober"},
    "fd.cmd.prober.verify-colour": {ADMIN, "orchestrator"},
    "fd.cmd.ecr-poller.watch-image": {ADMIN, "orchestrator"},
    "fd.cmd.orchestrator.cancel": {ADMIN, "gateway"},
    "fd.cmd.orchestrator.start": {ADMIN, "gateway"},
    "fd.cmd.orchestrator.ops": {ADMIN, "gateway"},
    "fd.cmd.log-relay.follow-logs": {ADMIN, "gateway"},
    "$KV.fd_leases.k8s-watcher": {ADMIN, "k8s-watcher"},
    "$KV.fd_log_cursors.default.web-1.web": {ADMIN, "log-relay"},
}


@pytest.mark.parametrize("subject", sorted(WRITERS))
def test_each_area_has_exactly_its_writers(subject: str) -> None:
    writers = {u for u, rights in USERS.items() if may_publish(rights, subject)}
    assert writers == WRITERS[subject]


STREAM_ADMIN = [
    f"$JS.API.STREAM.{verb}.{stream}"
    for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE")
    for stream in ("FD_AUDIT", "FD_LOGS", "KV_fd_leases", "KV_anything")
] + ["$JS.API.CONSUMER.DELETE.FD_COMMANDS.prober-commands", "$JS.API.ACCOUNT.PURGE.x"]


@pytest.mark.parametrize("subject", STREAM_ADMIN)
def test_only_admin_manages_streams_and_consumers(subject: str) -> None:
    assert [u for u in NON_ADMIN if may_publish(USERS[u], subject)] == []


def test_a_service_pulls_only_from_its_own_durables() -> None:
    for user in NON_ADMIN:
        for other in SERVICES:
            if other == user:
                continue
            durable = f"{other}-commands"
            assert not may_publish(USERS[user], f"$JS.API.CONSUMER.MSG.NEXT.FD_COMMANDS.{durable}")
            assert not may_publish(USERS[user], f"$JS.ACK.FD_COMMANDS.{durable}.1.2.3.4.5")


def test_the_orchestrator_pulls_its_commands_and_no_longer_its_own_events() -> None:
    rights = USERS["orchestrator"]
    assert may_publish(rights, "$JS.API.CONSUMER.MSG.NEXT.FD_COMMANDS.orchestrator-commands")
    assert may_publish(rights, "$JS.ACK.FD_COMMANDS.orchestrator-commands.1.2.3.4.5")
    for user in NON_ADMIN:
        assert not may_publish(
            USERS[user], "$JS.API.CONSUMER.MSG.NEXT.FD_DEPLOYMENTS.orchestrator-deployments"
        )


def test_each_user_reads_replies_on_its_own_inboxes_only() -> None:
    for user in NON_ADMIN:
        inboxes = [s for s in USERS[user].subscribe if s.startswith("_INBOX")]
        assert inboxes == [f"_INBOX.{user}.>"]


def test_the_server_config_names_every_user_by_public_key() -> None:
    seeds = {user: new_seed() for user in USERS}
    keys = {user: public_key(seed) for user, seed in seeds.items()}
    text = server_config(keys, USERS)
    for key in keys.values():
        assert f'nkey: "{key}"' in text
    assert text.count("permissions:") == len(USERS)
    assert not [u for u, seed in seeds.items() if seed.decode() in text]  # no secret in it
