"""The relay's pod feed: a snapshot, then a subscription, joined without a gap or a repeat."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.events import Recorded, subjects
from flightdeck.events.cluster import ResourceDeleted
from flightdeck.log_relay.domain.seam import Seam
from tests.support.recorded import recorded

pytestmark = pytest.mark.unit

GONE = ResourceDeleted(kind="Pod", namespace="default", name="a", uid="u")


def test_the_seam_between_snapshot_and_subscription_applies_each_event_once() -> None:
    def rec(pod: str, position: int) -> Recorded[Any]:
        return recorded(subjects.cluster_object("default", "Pod", pod), GONE, position=position)

    seam = Seam([rec("a", 12), rec("b", 15)])
    live = [rec("a", 11), rec("b", 13), rec("a", 12), rec("c", 14), rec("b", 15), rec("a", 16)]

    assert [r.position for r in live if seam.new(r)] == [14, 16]
    assert seam.new(rec("b", 17))
