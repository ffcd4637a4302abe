"""What ``flightdeck up`` says when it stops: cleanly only if nothing had to be done."""

import pytest

from flightdeck.cli.supervisor import Outcome

pytestmark = pytest.mark.unit


def test_nothing_restarted_is_a_clean_stop() -> None:
    assert Outcome().clean
    assert Outcome().summary() == "stopped cleanly"


def test_restarts_are_named_with_their_count() -> None:
    outcome = Outcome({"nats-server": 1, "orchestrator": 2, "gateway": 3})
    assert not outcome.clean
    assert outcome.summary() == (
        "stopped; restarted nats-server once, orchestrator twice, gateway 3 times"
    )


def test_a_service_killed_at_stop_is_not_a_clean_stop() -> None:
    outcome = Outcome(unclean_stops={"prober": "killed (still running 10s after SIGTERM)"})
    assert not outcome.clean
    assert outcome.summary() == "stopped; prober killed (still running 10s after SIGTERM)"
