"""What a projection is: the rows an event touches, and what it does to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flightdeck.events.envelope import Recorded
from flightdeck.readmodel.rows import Key, RowSet

Touch = tuple[str, Key]


@dataclass(frozen=True)
class Projection:
    touches: Callable[[Recorded[Any]], list[Touch]]
    apply: Callable[[RowSet, Recorded[Any]], None]


def nothing(_: Recorded[Any]) -> list[Touch]:
    return []


def ignore(_rows: RowSet, _recorded: Recorded[Any]) -> None:
    """A known event the read model has no column for (it stays in the stream)."""
