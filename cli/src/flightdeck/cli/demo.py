"""``flightdeck up --demo``: a sample deployment through the sandbox, shown live.

The image is pushed to the sandbox's ECR a few seconds after the deploy is
requested, so the Artifact stage really waits for it; then pods come up, the
address is assigned, checks run and traffic switches. Everything is watched
the way a user would: the gateway's REST API and its SSE streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from httpx_sse import aconnect_sse
from rich.console import Console
from rich.live import Live
from rich.panel import Panel

from flightdeck.cli.demo_view import DemoView
from flightdeck.cli.system import Endpoints

APP = "hello"


async def _follow_logs(http: httpx.AsyncClient, view: DemoView) -> None:
    """A few of the new pods' log lines, from the gateway's log stream."""
    with contextlib.suppress(httpx.HTTPError):
        async with aconnect_sse(
            http, "GET", f"/api/v1/logs/{APP}/stream", params={"tail": "5"}, timeout=None
        ) as source:
            if source.response.status_code != 200:
                return
            async for sse in source.aiter_sse():
                if sse.event == "log" and sse.data:
                    data = json.loads(sse.data)
                    for line in data.get("lines", [data]):
                        view.on_log({**line, "pod": data.get("pod", line.get("pod", ""))})


async def run_demo(endpoints: Endpoints, console: Console, *, timeout: float = 600.0) -> int:
    """Deploy the sample app, show it live, print the result; 0 if it succeeded."""
    assert endpoints.sandbox is not None, "the demo needs the sandbox"
    tag = datetime.now(UTC).strftime("v%Y%m%d-%H%M%S")
    headers = {"Authorization": f"Bearer {endpoints.dev_token}"}
    async with httpx.AsyncClient(
        base_url=endpoints.gateway_url, headers=headers, timeout=30
    ) as http:
        response = await http.post(
            "/api/v1/deploy",
            json={"appName": APP, "imageRepository": APP, "imageTag": tag, "replicas": 2},
        )
        if response.status_code >= 300:
            console.print(f"[bold red]✗ the deploy was refused:[/] {response.text}")
            return 1
        deployment_id = response.json()["data"]["deploymentId"]
        console.print(
            f"[green]✔[/] deployment [bold]{deployment_id}[/] accepted; "
            f"pushing image {APP}:{tag} to ECR in 3 s"
        )
        await endpoints.sandbox.push_image(APP, tag, delay_s=3.0)
        view = DemoView(deployment_id, APP, f"{APP}:{tag}")
        logs = asyncio.create_task(_follow_logs(http, view))
        try:
            async with asyncio.timeout(timeout):
                await _watch(http, view, console)
        except TimeoutError:
            console.print(f"[bold red]✗ no result after {timeout:.0f}s[/]")
            return 1
        finally:
            logs.cancel()
        result = await _final_result(http, deployment_id)
    console.print()
    console.print(_result_panel(result))
    return 0 if result.get("phase") == "SUCCEEDED" else 1


async def _watch(http: httpx.AsyncClient, view: DemoView, console: Console) -> None:
    path = f"/api/v1/deploy/{view.deployment_id}/events"
    last_id: str | None = None
    with Live(view.render(), console=console, refresh_per_second=8) as live:
        while not view.finished:  # reconnect with Last-Event-ID if the stream drops
            headers = {"Last-Event-ID": last_id} if last_id else {}
            with contextlib.suppress(httpx.TransportError):
                async with aconnect_sse(http, "GET", path, headers=headers, timeout=None) as source:
                    async for sse in source.aiter_sse():
                        last_id = sse.id or last_id
                        if not sse.data:
                            continue  # the retry: line, or a comment
                        view.on_event(sse.event, json.loads(sse.data))
                        live.update(view.render())
                        if view.finished:
                            break
            live.update(view.render())
            if not view.finished:
                await asyncio.sleep(0.5)


async def _final_result(http: httpx.AsyncClient, deployment_id: str) -> dict[str, Any]:
    """The result from the read model, once the projector has applied the last event."""
    result: dict[str, Any] = {}
    for _ in range(100):
        response = await http.get(f"/api/v1/deploy/{deployment_id}/result")
        result = response.json().get("data") or {}
        if result.get("phase") in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        await asyncio.sleep(0.1)
    return result


def colour_stats(stats: dict[str, Any]) -> str:
    """One colour's health checks in a line; no latency when no check got an answer."""
    rate = stats.get("errorRate") or 0.0
    p50, p99 = stats.get("latencyP50Ms"), stats.get("latencyP99Ms")
    if p50 is None or p99 is None:
        return f"no answer (error rate {rate:.0%})"
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, error rate {rate:.0%}"


def _result_panel(result: dict[str, Any]) -> Panel:
    ok = result.get("phase") == "SUCCEEDED"
    lines = [
        f"status      {result.get('phase')}",
        f"colour      {result.get('colour')} (previous {result.get('previousColour') or '—'})",
        f"url         {result.get('url')}",
        f"duration    {(result.get('totalDurationMs') or 0) / 1000:.1f} s",
    ]
    if result.get("errorCode"):
        lines.append(f"error       {result.get('errorCode')}: {result.get('errorMessage')}")
    for key in ("newColour", "oldColour"):
        if stats := result.get(key):
            lines.append(f"{key[:3]} colour  {colour_stats(stats)}")
    return Panel("\n".join(lines), title="result", border_style="green" if ok else "red")
