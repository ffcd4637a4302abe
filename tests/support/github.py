"""A tiny GitHub REST API for tests: a few repositories with one branch each.

Answers what the gateway asks (``/repos/{owner}/{repo}`` and
``/repos/{owner}/{repo}/branches/{branch}``) for one token, as GitHub does:
401 for another token, 404 for anything unknown.
"""

from __future__ import annotations

from typing import Any

import msgspec

TOKEN = "ghp_good_token"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
PANDA_SHA = "9c1185a5c5e9fc54612808977ee8f548b2258d31"
BRANCHES = {
    ("acme", "web"): {"main": SHA},
    ("acme", "panda-web"): {"main": PANDA_SHA},
}


def _answer(path: str, authorization: bytes | None) -> tuple[int, dict[str, Any]]:
    if authorization != f"Bearer {TOKEN}".encode():
        return 401, {"message": "Bad credentials"}
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "repos" and (parts[1], parts[2]) in BRANCHES:
        branches = BRANCHES[(parts[1], parts[2])]
        if len(parts) == 3:
            return 200, {"full_name": f"{parts[1]}/{parts[2]}"}
        if len(parts) == 5 and parts[3] == "branches" and parts[4] in branches:
            return 200, {"name": parts[4], "commit": {"sha": branches[parts[4]]}}
    return 404, {"message": "Not Found"}


async def github_stand_in(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app (serve it with :func:`tests.support.serving.serve`)."""
    if scope["type"] != "http":
        return
    status, body = _answer(scope["path"], dict(scope["headers"]).get(b"authorization"))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": msgspec.json.encode(body)})
