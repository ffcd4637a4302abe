"""What the poller's service layer needs of the outside world, each as a small Protocol.

The event store is the shared port of ``flightdeck.events``; the registry is
this one, satisfied by :class:`~flightdeck.ecr_poller.adapters.ecr.Ecr`.
"""

from __future__ import annotations

from typing import Protocol

from flightdeck.ecr_poller.domain.images import Image


class ImageLookup(Protocol):
    async def images(
        self, repository: str, tags: set[str], connection_id: str | None = None
    ) -> dict[str, Image]:
        """The ``tags`` that exist in ``repository`` now, by tag.

        Raises :class:`~flightdeck.ecr_poller.domain.images.RepositoryMissing` or
        :class:`~flightdeck.ecr_poller.domain.images.RegistryUnavailable`.
        """
        ...
