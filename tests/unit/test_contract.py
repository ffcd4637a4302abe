"""One declaration of each service's NATS side (ADR 0019): the consumers the services run,
their NATS permissions and the AsyncAPI document all derive from runtime.contract."""

from __future__ import annotations

import pytest

from flightdeck.events import streams, subjects
from flightdeck.orchestrator.bootstrap import consumer_specs
from flightdeck.orchestrator.config import OrchestratorSettings
from flightdeck.runtime import contract, nats_permissions

pytestmark = pytest.mark.unit


def test_every_service_may_do_what_its_contract_says_and_pull_only_its_durables() -> None:
    users = nats_permissions.users({})
    for service, declared in contract.SERVICES.items():
        rights = users[service].publish
        assert set(declared.publishes) <= set(rights), service
        for durable in declared.durables:
            assert set(nats_permissions.pulls(durable.stream, durable.name)) <= set(rights)
        pulled = {r.rsplit(".", 1)[-1] for r in rights if ".CONSUMER.MSG.NEXT." in r}
        assert pulled == {d.name for d in declared.durables}, service
        if declared.durables:
            assert subjects.dead_letters(service) in rights


def test_durables_are_named_for_their_service_and_read_real_streams() -> None:
    for declared in contract.ALL:
        for durable in declared.durables:
            assert durable.name.startswith(f"{declared.service}-")
            assert durable.stream in streams.UNIONS
            for subject in durable.subjects:
                assert streams.stream_for_subject(subject) == durable.stream
        for accepts in declared.accepts:
            assert accepts.subject.startswith(f"{subjects.COMMANDS}.{declared.service}.")
            assert accepts.command in streams.UNIONS[streams.COMMANDS].__args__


def test_the_orchestrator_runs_the_durables_it_declares() -> None:
    specs = consumer_specs(None, OrchestratorSettings())  # type: ignore[arg-type]
    assert [(s.durable, s.stream, s.subjects) for s in specs] == [
        (d.name, d.stream, d.subjects) for d in contract.ORCHESTRATOR.durables
    ]
    assert "orchestrator-commands" in {s.durable for s in specs}
