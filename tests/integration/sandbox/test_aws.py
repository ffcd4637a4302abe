"""The AWS sandbox: moto over real HTTP, ECR images pushed through the sandbox helper."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
import httpx
import pytest

from flightdeck.sandbox import Sandbox
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def ecr(sandbox: Sandbox) -> AsyncIterator[Any]:
    session = aioboto3.Session()
    async with session.client(
        "ecr",
        endpoint_url=sandbox.aws_endpoint,
        region_name=sandbox.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        yield client


async def test_pushed_image_is_described_by_ecr(sandbox: Sandbox, ecr: Any) -> None:
    repository = f"shop/web-{uuid.uuid4().hex[:6]}"

    pushed = await sandbox.push_image(repository, "v1")
    found = await ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v1"}])
    listed = await ecr.list_images(repositoryName=repository)

    detail = found["imageDetails"][0]
    assert detail["imageTags"] == ["v1"]
    assert detail["imageDigest"] == pushed["digest"] and detail["imageDigest"].startswith("sha256:")
    assert detail["imageSizeInBytes"] > 1_000_000
    assert detail["imagePushedAt"] is not None
    assert pushed["uri"].endswith(f"{repository}:v1") and ".dkr.ecr." in pushed["uri"]
    assert listed["imageIds"] == [{"imageDigest": pushed["digest"], "imageTag": "v1"}]


async def test_delayed_push_appears_later(sandbox: Sandbox, ecr: Any) -> None:
    repository = f"shop/api-{uuid.uuid4().hex[:6]}"

    scheduled = await sandbox.push_image(repository, "v2", delay_s=0.5)
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        await ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v2"}])

    async def described() -> Any:
        try:
            return await ecr.describe_images(
                repositoryName=repository, imageIds=[{"imageTag": "v2"}]
            )
        except (ecr.exceptions.RepositoryNotFoundException, ecr.exceptions.ImageNotFoundException):
            return None

    found = await eventually(described, what="the delayed image")
    assert scheduled["pushed"] is False
    assert found["imageDetails"][0]["imageTags"] == ["v2"]


async def test_sts_answers_and_reset_clears_ecr(sandbox: Sandbox, ecr: Any) -> None:
    repository = f"shop/tmp-{uuid.uuid4().hex[:6]}"
    await sandbox.push_image(repository, "v1")
    session = aioboto3.Session()
    async with session.client(
        "sts",
        endpoint_url=sandbox.aws_endpoint,
        region_name=sandbox.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as sts:
        identity = await sts.get_caller_identity()

    async with httpx.AsyncClient() as http:
        reset = await http.post(f"{sandbox.aws_endpoint}/moto-api/reset")
    repositories = await ecr.describe_repositories()

    assert identity["Account"] == "123456789012"
    assert reset.status_code == 200
    assert repository not in {r["repositoryName"] for r in repositories["repositories"]}
