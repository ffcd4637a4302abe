"""``flightdeck logs APP``: an app's pod logs from the gateway, stern-style.

Every pod gets its own colour (the same one in every run: it is derived from
the pod's name), lines are ``pod container LEVEL text``; ``-f`` follows the live
stream, resumed after a drop without repeating a line. The filters run on the
server (docs/api.md, Logs).
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
import typer
from rich.text import Text

from flightdeck.cli.output import console, fail
from flightdeck.cli.remote import EXIT_USAGE, FormatOption, check_format, connect, run
from flightdeck.client import LogLine

POD_COLOURS = (
    "cyan",
    "green",
    "magenta",
    "yellow",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_green",
    "bright_magenta",
    "bright_yellow",
    "bright_blue",
)
LEVEL_STYLES = {
    "ERROR": "bold red",
    "FATAL": "bold red",
    "WARN": "yellow",
    "DEBUG": "dim",
    "TRACE": "dim",
}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def pod_colour(pod: str) -> str:
    """The pod's colour: stable across runs and machines (not Python's salted hash)."""
    return POD_COLOURS[zlib.crc32(pod.encode()) % len(POD_COLOURS)]


def since_time(value: str, now: datetime) -> str:
    """``--since``: a duration back from now (``90s``, ``5m``, ``1h30m``, ``2d``) or a time."""
    match = _DURATION.fullmatch(value)
    if value and match and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        when = now - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            f"--since must be a duration (30s, 5m, 1h, 2d) or a time (2026-12-07T09:00:00Z), "
            f"not {value!r}",
            EXIT_USAGE,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def render(line: LogLine) -> Text:
    text = Text()
    text.append(line.pod, style=pod_colour(line.pod))
    text.append(f" {line.container} ", style="dim")
    text.append(f"{line.level:<5} ", style=LEVEL_STYLES.get(line.level, ""))
    text.append(line.text)
    return text


def _show(line: LogLine, fmt: str) -> None:
    if fmt == "json":
        print(msgspec.json.encode(line).decode(), flush=True)
    else:
        console.print(render(line), highlight=False, soft_wrap=True)


async def _logs(app: str, follow: bool, tail: int, filters: dict[str, Any], fmt: str) -> int:
    async with connect() as fd:
        if not follow:
            page = await fd.logs(app, limit=tail, **filters)
            for line in page.items:
                _show(line, fmt)
            return 0
        if "since" not in filters:
            filters["tail"] = tail
        async for event in fd.log_stream(app, **filters):
            if event.event == "log":
                _show(event.as_log_line(), fmt)
            elif event.event == "gap" and fmt == "table":
                d = event.data
                console.print(
                    Text(
                        f"{d.get('pod')} {d.get('container')} … lines lost: {d.get('reason')}",
                        style="dim italic",
                    ),
                    soft_wrap=True,
                )
    return 0


def register(app: typer.Typer) -> None:
    @app.command()
    def logs(
        app_name: Annotated[str, typer.Argument(metavar="APP", help="The app's name.")],
        follow: Annotated[
            bool, typer.Option("--follow", "-f", help="Keep following new lines.")
        ] = False,
        level: Annotated[
            list[str] | None,
            typer.Option(
                "--level", "-l", help="Only these levels: ERROR, WARN… (repeatable, or a,b)."
            ),
        ] = None,
        grep: Annotated[
            str | None,
            typer.Option("--grep", "-g", help="Only lines matching this regular expression."),
        ] = None,
        exclude: Annotated[
            str | None,
            typer.Option("--exclude", "-v", help="Drop lines matching this regular expression."),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option("--since", "-s", help="From this long ago (5m, 1h) or this time."),
        ] = None,
        pod: Annotated[
            list[str] | None, typer.Option("--pod", help="Only these pods (repeatable).")
        ] = None,
        namespace: Annotated[str | None, typer.Option(help="The app's namespace.")] = None,
        tail: Annotated[int, typer.Option(help="How many recent lines first, 1–1000.")] = 100,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Print an app's pod logs, one colour per pod; -f follows them live."""
        check_format(fmt)
        if not 1 <= tail <= 1000:
            raise fail(f"--tail must be 1–1000, not {tail}", EXIT_USAGE)
        for option, pattern in (("--grep", grep), ("--exclude", exclude)):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise fail(f"{option}: not a regular expression ({exc})", EXIT_USAGE) from None
        levels = [
            part.strip() for value in level or [] for part in value.split(",") if part.strip()
        ]
        filters: dict[str, Any] = {
            "levels": levels or None,
            "include": grep,
            "exclude": exclude,
            "since": since_time(since, datetime.now(UTC)) if since else None,
            "pods": pod or None,
            "namespace": namespace,
        }
        filters = {k: v for k, v in filters.items() if v is not None}
        raise typer.Exit(run(_logs(app_name, follow, tail, filters, fmt)))
