"""Validating a GitHub repository, branch and token, and resolving a branch to its SHA.

The API base URL is configurable (a local stand-in in tests, GitHub
Enterprise in some installations).
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from flightdeck.gateway.domain.errors import ApiError, ErrorCode


class GitHub:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "flightdeck-gateway",
            },
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, token: str) -> httpx.Response:
        try:
            return await self._client.get(path, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ApiError(
                ErrorCode.UPSTREAM_UNAVAILABLE, f"GitHub could not be reached: {type(exc).__name__}"
            ) from exc

    def _check(self, response: httpx.Response, missing: ErrorCode, what: str) -> None:
        if response.status_code in (401, 403):
            raise ApiError(ErrorCode.GITHUB_CREDENTIALS_INVALID, "GitHub refused the token")
        if response.status_code == 404:
            raise ApiError(missing, f"{what} not found on GitHub (or not visible to this token)")
        if response.status_code >= 400:
            raise ApiError(
                ErrorCode.UPSTREAM_UNAVAILABLE, f"GitHub answered {response.status_code}"
            )

    async def branch_sha(self, owner: str, repo: str, branch: str, token: str) -> str:
        """The commit SHA the branch points at, checking the repository first."""
        base = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        found = await self._get(base, token)
        self._check(found, ErrorCode.GITHUB_REPOSITORY_NOT_FOUND, f"repository {owner}/{repo}")
        found = await self._get(f"{base}/branches/{quote(branch, safe='')}", token)
        self._check(found, ErrorCode.GITHUB_BRANCH_NOT_FOUND, f"branch {branch}")
        try:
            sha = found.json()["commit"]["sha"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(ErrorCode.UPSTREAM_UNAVAILABLE, "GitHub's answer had no SHA") from exc
        return str(sha)
