"""ECR through aioboto3: which of some tags exist in a repository, with their digests.

One tag is asked for by id; several are found with one paginated listing of
the tagged images, so each repository costs one poll however many tags wait.
"""

from __future__ import annotations

import contextlib
from typing import Any

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError

from flightdeck.ecr_poller.adapters.connections import AwsConnections, ConnectionUnusable
from flightdeck.ecr_poller.domain.images import Image, RegistryUnavailable, RepositoryMissing
from flightdeck.runtime.aws import AwsSettings


class Credentials:
    """Session settings for a watch: its deployment's AWS connection (keys sealed in the
    audit stream) when it names one, else this process's static keys or the standard chain."""

    def __init__(self, settings: AwsSettings, connections: AwsConnections | None = None) -> None:
        self._connections = connections
        self._static: dict[str, Any] = {}
        if settings.access_key_id and settings.secret_access_key:
            self._static = {
                "aws_access_key_id": settings.access_key_id,
                "aws_secret_access_key": settings.secret_access_key,
            }

    async def session_kwargs(self, connection_id: str | None) -> dict[str, Any]:
        if connection_id is None:
            return dict(self._static)
        if self._connections is None:
            raise RegistryUnavailable(
                f"AWS connection {connection_id}: connections are not readable here"
            )
        try:
            return await self._connections.session_kwargs(connection_id)
        except ConnectionUnusable as exc:
            raise RegistryUnavailable(str(exc)) from None


class Ecr:
    """One long-lived ECR client per AWS connection (creating one costs tens of ms)."""

    def __init__(self, settings: AwsSettings, credentials: Credentials | None = None) -> None:
        self._settings = settings
        self._credentials = credentials or Credentials(settings)
        self._clients: dict[str | None, Any] = {}
        self._stack = contextlib.AsyncExitStack()

    async def close(self) -> None:
        await self._stack.aclose()
        self._clients.clear()

    async def _client(self, connection_id: str | None) -> Any:
        if connection_id not in self._clients:
            kwargs = await self._credentials.session_kwargs(connection_id)
            region = kwargs.pop("region_name", None) or self._settings.region
            session = aioboto3.Session(**kwargs)
            self._clients[connection_id] = await self._stack.enter_async_context(
                session.client("ecr", region_name=region, endpoint_url=self._settings.endpoint_url)
            )
        return self._clients[connection_id]

    async def images(
        self, repository: str, tags: set[str], connection_id: str | None = None
    ) -> dict[str, Image]:
        """The ``tags`` that exist in ``repository`` now, by tag."""
        try:
            ecr = await self._client(connection_id)
            if len(tags) == 1:
                return await self._one(ecr, repository, next(iter(tags)))
            return await self._many(ecr, repository, tags)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "RepositoryNotFoundException":
                raise RepositoryMissing(repository) from exc
            raise RegistryUnavailable(f"{code}: {exc}") from exc
        except BotoCoreError as exc:
            raise RegistryUnavailable(repr(exc)) from exc

    async def _one(self, ecr: Any, repository: str, tag: str) -> dict[str, Image]:
        try:
            page = await ecr.describe_images(
                repositoryName=repository, imageIds=[{"imageTag": tag}]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ImageNotFoundException":
                return {}
            raise
        return _matching(page.get("imageDetails", []), {tag})

    async def _many(self, ecr: Any, repository: str, tags: set[str]) -> dict[str, Image]:
        found: dict[str, Image] = {}
        paginator = ecr.get_paginator("describe_images")
        async for page in paginator.paginate(
            repositoryName=repository, filter={"tagStatus": "TAGGED"}
        ):
            found.update(_matching(page.get("imageDetails", []), tags))
        return found


def _matching(details: list[dict[str, Any]], tags: set[str]) -> dict[str, Image]:
    out = {}
    for d in details:
        for tag in set(d.get("imageTags") or []) & tags:
            out[tag] = Image(
                tag=tag,
                digest=d["imageDigest"],
                pushed_at=d.get("imagePushedAt"),
                size_bytes=d.get("imageSizeInBytes"),
                registry_id=d.get("registryId"),
            )
    return out
