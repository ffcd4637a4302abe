"""Read your writes (ADR 0024): a read waits, bounded, for the read model to reach a position."""

from __future__ import annotations

from dataclasses import dataclass, field

from flightdeck.gateway.service_layer.freshness import Freshness


@dataclass
class World:
    """A projector that applies one position per poll, on a clock the test moves."""

    checkpoint: int = 0
    latest: int = 0
    now: float = 0.0
    polls: list[float] = field(default_factory=list)

    async def projected_upto(self, stream: str) -> int:
        return self.checkpoint

    async def last_position(self, subject: str) -> int:
        return self.latest

    async def stream_last_position(self, stream: str) -> int:
        return self.latest

    async def sleep(self, seconds: float) -> None:
        self.polls.append(seconds)
        self.now += seconds
        self.checkpoint += 1

    def clock(self) -> float:
        return self.now


def fresh(w: World, within_s: float = 1.0) -> Freshness:
    return Freshness(w, w, within_s=within_s, sleep=w.sleep, clock=w.clock)


async def test_a_read_waits_until_the_projection_holds_the_aggregates_latest_event() -> None:
    w = World(checkpoint=7, latest=10)
    assert await fresh(w).aggregate("FD_DEPLOYMENTS", "fd.evt.deploy.x") == (10, True)
    assert w.checkpoint == 10
    assert w.polls == [0.002, 0.004, 0.008]  # backing off, never busy


async def test_a_caught_up_read_model_costs_one_look() -> None:
    w = World(checkpoint=12, latest=10)
    assert await fresh(w).whole_stream("FD_DEPLOYMENTS")
    assert w.polls == []


async def test_the_wait_is_bounded() -> None:
    w = World(checkpoint=0, latest=1_000)
    assert not await fresh(w, within_s=0.1).reached("FD_DEPLOYMENTS", 1_000)
    assert 0.1 <= w.now < 0.2
    assert max(w.polls) == 0.025


async def test_an_unknown_aggregate_needs_no_wait() -> None:
    w = World(checkpoint=0, latest=0)
    assert await fresh(w).aggregate("FD_DEPLOYMENTS", "fd.evt.deploy.nothing") == (0, True)
