"""The AWS sandbox: a moto server (ECR, STS) over real HTTP, and image "pushes".

A push is what a registry client leaves behind: a repository and an image
manifest (Docker schema 2, with config and layer digests) under a tag, put
through the ECR API with aioboto3, so ``describe_images`` finds it with tags,
digest, size and push time like any other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aioboto3
from botocore.exceptions import ClientError
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


class MotoServer:
    """moto in a thread of the sandbox process, on ``host:port`` (0 picks a free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = port

    def start(self) -> int:
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self.port

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()


def _digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def manifest(repository: str, tag: str) -> str:
    """A schema-2 manifest whose blobs are unique to ``repository:tag``."""
    seed = f"{repository}:{tag}"
    layers: list[dict[str, Any]] = [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 2_800_000 + n * 1_250_000 + len(seed) * 1024,
            "digest": _digest(f"{seed}/layer/{n}"),
        }
        for n in range(3)
    ]
    body = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": sum(layer["size"] for layer in layers),
            "digest": _digest(f"{seed}/config"),
        },
        "layers": layers,
    }
    return json.dumps(body, indent=3)


async def push_image(endpoint: str, region: str, repository: str, tag: str) -> dict[str, Any]:
    """Create the repository if needed and put the image; returns what ECR says about it."""
    session = aioboto3.Session()
    async with session.client(
        "ecr", endpoint_url=endpoint, region_name=region, **CREDENTIALS
    ) as ecr:
        try:
            await ecr.create_repository(repositoryName=repository)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise
        body = manifest(repository, tag)
        digest = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
        try:
            await ecr.put_image(
                repositoryName=repository,
                imageManifest=body,
                imageTag=tag,
                imageManifestMediaType=MANIFEST_TYPE,
                imageDigest=digest,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ImageAlreadyExistsException":
                raise
        found = await ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        detail = found["imageDetails"][0]
        repo = (await ecr.describe_repositories(repositoryNames=[repository]))["repositories"][0]
        return {
            "repository": repository,
            "tag": tag,
            "digest": detail["imageDigest"],
            "sizeInBytes": detail.get("imageSizeInBytes"),
            "pushedAt": detail["imagePushedAt"].isoformat(),
            "uri": f"{repo['repositoryUri']}:{tag}",
        }
