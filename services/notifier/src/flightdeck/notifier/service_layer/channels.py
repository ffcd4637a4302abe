"""A stored channel definition, its sealed secrets opened, ready to send through."""

from __future__ import annotations

from flightdeck.events.notifications import ChannelCreated
from flightdeck.notifier.domain.channels import Channel, channel_of, secret_binding
from flightdeck.notifier.service_layer.ports import Opener


def open_channel(created: ChannelCreated, opener: Opener) -> Channel:
    binding = secret_binding(created.tenant, created.channel_id)
    secrets = {name: opener.open(sealed, binding) for name, sealed in created.secrets.items()}
    return channel_of(created.kind, dict(created.settings), secrets)
