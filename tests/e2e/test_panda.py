"""A Panda client against the whole system (issue 14 item 4, ADR 0024): Panda's literal deploy
body, the stream, then the result read as Panda's documented client code reads it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from httpx_sse import aconnect_sse

from tests.e2e.system import System
from tests.support.github import PANDA_SHA, TOKEN

pytestmark = pytest.mark.e2e


async def connect(system: System) -> tuple[str, str]:
    """Panda's set-up: a GitHub connection and an AWS one (the sandbox's AWS takes any key)."""
    github = {"owner": "acme", "repo": "panda-web", "branch": "main", "token": TOKEN}
    aws = {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "panda-secret-key"}
    async with system.client() as http:
        gh = await http.post("/api/v1/connect/github", json=github)
        assert gh.status_code == 201, gh.text
        account = await http.post("/api/v1/connect/aws", json=aws)
        assert account.status_code == 201, account.text
    return gh.json()["data"]["githubConnectionId"], account.json()["data"]["awsConnectionId"]


async def poll_until_final(system: System, result_url: str) -> dict[str, Any]:
    """Panda's documented client: poll the result until data.status is COMPLETED or FAILED."""
    deadline = time.monotonic() + 180
    async with system.client() as http:
        while time.monotonic() < deadline:
            data = (await http.get(result_url)).json()["data"]
            if data["status"] in ("COMPLETED", "FAILED"):
                return dict(data)
            await asyncio.sleep(1)
    raise AssertionError(f"{result_url} never finished")


async def test_panda_s_literal_request_deploys_and_its_result_reads_as_panda_reads_it(
    system: System,
) -> None:
    github_id, aws_id = await connect(system)
    await system.push_image("panda-web", PANDA_SHA)  # what Panda's CI pushes for the branch head
    body = {
        "githubConnectionId": github_id,
        "awsConnectionId": aws_id,
        "owner": "acme",
        "repo": "panda-web",
        "branch": "main",
    }
    async with system.client() as http:
        accepted = await http.post("/api/v1/deploy", json=body)
        assert accepted.status_code == 202, accepted.text
        data = accepted.json()["data"]
        assert data["image"].endswith(f".dkr.ecr.us-east-1.amazonaws.com/panda-web:{PANDA_SHA}")
        # the stream, as Panda's clients follow it; the result read the instant done arrives
        seen: list[dict[str, Any]] = []
        async with aconnect_sse(http, "GET", data["eventsUrl"], timeout=None) as source:
            async for sse in source.aiter_sse():
                if sse.data:
                    seen.append(json.loads(sse.data))
                if sse.event in ("done", "error"):
                    instant = (await http.get(data["resultUrl"])).json()["data"]
                    break
    assert seen[-1]["type"] == "done", seen[-1]
    assert all(p["type"] in ("stage", "done") and "message" in p for p in seen)
    assert [p["details"]["stage"] for p in seen][-1] == 7
    assert instant["status"] == "COMPLETED"  # read your writes: never RUNNING after done

    result = await poll_until_final(system, data["resultUrl"])
    assert result["status"] == "COMPLETED", result
    assert (result["owner"], result["repo"], result["branch"]) == ("acme", "panda-web", "main")
    assert (result["appName"], result["commitSha"]) == ("panda-web", PANDA_SHA)
    assert result["finalService"] == "blue" and result["blueUrl"]
    assert result["durationSeconds"] > 0 and result["completedAt"] and result["startedAt"]
    assert result["blueLatencyMs"] is not None and result["blueErrorRate"] == 0
    assert result["eventCount"] > 10
    assert result["errorMessage"] is None and result["error"] is None
