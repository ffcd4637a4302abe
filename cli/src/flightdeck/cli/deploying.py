"""``flightdeck deploy`` and ``flightdeck status``: deployments over the gateway's API.

``deploy APP --image REPO:TAG --wait`` follows the deployment's stream (resumed
after a drop) and exits 0 when it completed, 1 when it failed (with its error
code), so a script or CI job can gate on it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import msgspec
import typer
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from flightdeck.cli.demo_view import DemoView
from flightdeck.cli.output import console, fail
from flightdeck.cli.remote import EXIT_USAGE, FormatOption, check_format, connect, run
from flightdeck.client import DeploymentResult, Flightdeck, FlightdeckError, StreamEvent

EXIT_FAILED = 1
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SUCCESS = ("SUCCEEDED", "COMPLETED")


def split_image(image: str) -> tuple[str, str]:
    """``REPO:TAG`` (the repository may name a registry ``host:port/``) as (repo, tag)."""
    repo, sep, tag = image.rpartition(":")
    if not sep or not repo or "/" in tag or not _TAG.fullmatch(tag):
        raise fail(f"--image must be REPOSITORY:TAG (e.g. hello:v1), not {image!r}", EXIT_USAGE)
    return repo, tag


def parse_env(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _ENV_NAME.fullmatch(name):
            raise fail(
                f"--env must be NAME=VALUE with NAME a C identifier, not {pair!r}", EXIT_USAGE
            )
        env[name] = value
    return env


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _stage_line(event: StreamEvent) -> str:
    data = event.data
    if event.event == "done":
        took = (data.get("totalDurationMs") or 0) / 1000
        return f"done      {data.get('status')} in {took:.1f} s  {data.get('url') or ''}".rstrip()
    if event.event == "error":
        return f"error     {data.get('errorCode')} at {data.get('stage')}: {data.get('message')}"
    return f"{data.get('stage', ''):<9} {data.get('status', ''):<9} {data.get('message') or ''}"


async def _follow(fd: Flightdeck, view: DemoView, fmt: str) -> StreamEvent | None:
    """Show the deployment's events until its final one; return that one."""
    last: StreamEvent | None = None
    stream = fd.deployment_events(view.deployment_id)
    if fmt == "json":
        async for event in stream:
            print(_json({"id": event.id, "event": event.event, "data": event.data}), flush=True)
            last = event
        return last
    if not console.is_terminal:  # a log or a pipe: one line per event
        async for event in stream:
            console.print(_stage_line(event), highlight=False, soft_wrap=True)
            last = event
        return last
    with Live(view.render(), console=console, refresh_per_second=8) as live:
        async for event in stream:
            view.on_event(event.event, event.data)
            live.update(view.render())
            last = event
    return last


async def _settled(fd: Flightdeck, deployment_id: str, tries: int = 50) -> DeploymentResult:
    """The result once the read model has the final event (bounded: it lags by milliseconds)."""
    result = await fd.result(deployment_id)
    for _ in range(tries):
        if result.finished:
            break
        await asyncio.sleep(0.1)
        result = await fd.result(deployment_id)
    return result


def result_panel(result: DeploymentResult) -> Panel:
    ok = result.status in SUCCESS
    took = (result.total_duration_ms or 0) / 1000
    lines = [
        f"deployment  {result.deployment_id}",
        f"app         {result.app_name} ({result.namespace})",
        f"image       {result.image}",
        f"status      {result.phase or result.status}"
        + (f" (stage {result.stage})" if result.stage else ""),
        f"colour      {result.colour or '—'} (previous {result.previous_colour or '—'})",
        f"url         {result.url or '—'}",
        f"duration    {took:.1f} s",
    ]
    if result.error_code:
        lines.append(f"error       {result.error_code}: {result.error_message or ''}")
    style = "green" if ok else ("yellow" if not result.finished else "red")
    return Panel("\n".join(lines), title="deployment", border_style=style, expand=False)


async def _deploy(
    app: str, repo: str, tag: str, options: dict[str, Any], wait: bool, fmt: str
) -> int:
    async with connect() as fd:
        accepted = await fd.deploy(app, repo, tag, **options)
        if fmt == "json":
            print(_json(accepted), flush=True)
        else:
            console.print(
                f"[green]✔[/] deployment [bold]{accepted.deployment_id}[/] accepted "
                f"({repo}:{tag} as {app})",
                highlight=False,
            )
        if not wait:
            return 0
        view = DemoView(accepted.deployment_id, app, f"{repo}:{tag}")
        final = await _follow(fd, view, fmt)
        result = await _settled(fd, accepted.deployment_id)
        if fmt == "json":
            print(_json(result), flush=True)
        else:
            console.print(result_panel(result))
        ok = (
            final is not None
            and final.event == "done"
            and final.data.get("status", "SUCCEEDED") in SUCCESS
        )
        if not ok:
            code = (final.data.get("errorCode") if final else None) or result.error_code
            fail(f"deployment {accepted.deployment_id} {result.status}: {code or 'no result'}")
            return EXIT_FAILED
        return 0


def _summary_table(items: list[Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("deployment", "app", "image", "status", "stage", "error", "created"):
        table.add_column(column, overflow="fold")
    for d in items:
        table.add_row(
            d.deployment_id,
            d.app_name,
            d.image,
            d.phase or d.status,
            d.stage or "",
            d.error_code or "",
            d.created_at or "",
        )
    return table


async def _status(target: str | None, fmt: str, limit: int) -> int:
    async with connect() as fd:
        if target is None:
            items = await fd.deployments(limit=limit)
            _print_list(items, "deployments", fmt)
            return 0
        try:
            result = await fd.result(target)
        except FlightdeckError as exc:
            if exc.code not in ("DEPLOYMENT_NOT_FOUND", "VALIDATION_ERROR", "NOT_FOUND"):
                raise
        else:
            if fmt == "json":
                print(_json(result))
            else:
                console.print(result_panel(result))
            return 0
        items = await fd.deployments(app=target, limit=limit)
        if not items:
            raise FlightdeckError(404, "NOT_FOUND", f"no deployment or app named {target!r}")
        latest = await fd.result(items[0].deployment_id)
        if fmt == "json":
            print(_json({"app": target, "latest": latest, "deployments": items}))
        else:
            console.print(result_panel(latest))
            console.print(_summary_table(items, f"deployments of {target}"))
        return 0


def _print_list(items: list[Any], title: str, fmt: str) -> None:
    if fmt == "json":
        for item in items:
            print(_json(item))
    else:
        console.print(_summary_table(items, title))


def register(app: typer.Typer) -> None:
    @app.command()
    def deploy(
        app_name: Annotated[
            str, typer.Argument(metavar="APP", help="The app's name (a DNS label).")
        ],
        image: Annotated[str, typer.Option("--image", "-i", help="REPOSITORY:TAG to deploy.")],
        wait: Annotated[
            bool,
            typer.Option("--wait", "-w", help="Follow the stages; exit 0 COMPLETED, 1 FAILED."),
        ] = False,
        namespace: Annotated[
            str | None, typer.Option(help="The namespace (default: the gateway's).")
        ] = None,
        replicas: Annotated[int | None, typer.Option(help="Replicas, 1–50.")] = None,
        port: Annotated[int | None, typer.Option(help="The container port, 1–65535.")] = None,
        health_path: Annotated[str | None, typer.Option(help="The health check's path.")] = None,
        env: Annotated[
            list[str] | None, typer.Option("--env", "-e", help="NAME=VALUE (repeatable).")
        ] = None,
        idempotency_key: Annotated[
            str | None, typer.Option(help="Makes a retry safe: the same key, the same deployment.")
        ] = None,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Deploy an image as APP through the gateway (blue/green); --wait follows it live."""
        check_format(fmt)
        repo, tag = split_image(image)
        if replicas is not None and not 1 <= replicas <= 50:
            raise fail(f"--replicas must be 1–50, not {replicas}", EXIT_USAGE)
        if port is not None and not 1 <= port <= 65535:
            raise fail(f"--port must be 1–65535, not {port}", EXIT_USAGE)
        options = {
            "namespace": namespace,
            "replicas": replicas,
            "port": port,
            "health_path": health_path,
            "env": parse_env(env or []),
            "idempotency_key": idempotency_key,
        }
        raise typer.Exit(run(_deploy(app_name, repo, tag, options, wait, fmt)))

    @app.command()
    def status(
        target: Annotated[
            str | None, typer.Argument(metavar="[ID|APP]", help="A deployment id or an app name.")
        ] = None,
        limit: Annotated[int, typer.Option(help="How many deployments to list, 1–200.")] = 20,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """A deployment's result, an app's latest deployment and history, or every recent one."""
        check_format(fmt)
        if not 1 <= limit <= 200:
            raise fail(f"--limit must be 1–200, not {limit}", EXIT_USAGE)
        raise typer.Exit(run(_status(target, fmt, limit)))
