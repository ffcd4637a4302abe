"""Notification channels (``fd.evt.channel.*`` on FD_MONITORS): no table yet.

The channel list and bindings get rows with the channel REST routes (issue 15,
item 5); until then these events are read and deliberately change nothing. A
channel's sealed secrets never reach the read model in any case.
"""

from __future__ import annotations

from flightdeck.events.notifications import (
    ChannelBound,
    ChannelCreated,
    ChannelDeleted,
    ChannelUnbound,
    NotificationFailed,
)
from flightdeck.readmodel.projections.base import Projection, ignore, nothing

PROJECTIONS: dict[type, Projection] = {
    ChannelCreated: Projection(nothing, ignore),
    ChannelDeleted: Projection(nothing, ignore),
    ChannelBound: Projection(nothing, ignore),
    ChannelUnbound: Projection(nothing, ignore),
    NotificationFailed: Projection(nothing, ignore),
}
