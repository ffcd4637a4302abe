"""Container images in the registry (AWS ECR): ``fd.evt.ecr.<repository>.<tag>``."""

from __future__ import annotations

from datetime import datetime

from flightdeck.events.base import Event


class ImageObserved(Event, frozen=True, kw_only=True, tag="ecr.image_observed"):
    """The tag exists in the registry and points at ``digest``."""

    repository: str
    tag: str
    digest: str
    pushed_at: datetime | None
    size_bytes: int | None
    registry_id: str | None = None
    deployment_ids: list[str] = []
    """The deployments whose watches this answers (the orchestrator routes by it)."""


class ImageMissing(Event, frozen=True, kw_only=True, tag="ecr.image_missing"):
    """The tag did not appear before the watch's deadline (or the repository is gone)."""

    repository: str
    tag: str
    waited_s: float
    reason: str
    deployment_ids: list[str] = []
    code: str | None = None
    """Why, when it is known to be final: ``REPOSITORY_NOT_FOUND``; ``None``: the deadline passed."""


ArtifactEvent = ImageObserved | ImageMissing
