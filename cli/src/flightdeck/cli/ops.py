"""``flightdeck cancel|rollback|scale|restart``: ops actions over the gateway's API.

Each asks the gateway (scope ``ops``) and prints the action's id: the action
runs as commands and events like the pipeline, and ``flightdeck replay`` shows
who asked. The gateway answers 202 at once; the effect shows on the app's
stream and in ``flightdeck status APP``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
import typer

from flightdeck.cli.output import console, fail
from flightdeck.cli.remote import EXIT_REFUSED, EXIT_USAGE, FormatOption, check_format, connect, run
from flightdeck.client import ActionAccepted, Flightdeck

MAX_REPLICAS = 50
KeyOption = typer.Option(
    "--idempotency-key", help="Makes a retry safe: the same key, the same action."
)


def _report(what: str, accepted: ActionAccepted, fmt: str) -> None:
    if fmt == "json":
        print(msgspec.json.encode(accepted).decode(), flush=True)
    elif not accepted.failed:
        outcome = "done" if accepted.status == "SUCCEEDED" else "accepted"
        follow = f", deployment {accepted.deployment_id}" if accepted.deployment_id else ""
        console.print(
            f"[green]✔[/] {what}: action [bold]{accepted.action_id}[/] {outcome}{follow}",
            highlight=False,
        )


async def _act(what: str, fmt: str, call: Callable[[Flightdeck], Awaitable[ActionAccepted]]) -> int:
    """Ask for the action; exit 1 (one line, its error code) when it failed."""
    async with connect() as fd:
        accepted = await call(fd)
    _report(what, accepted, fmt)
    if accepted.failed:
        fail(f"{what} failed: {accepted.error_code or 'FAILED'}: {accepted.message or ''}".rstrip())
        return EXIT_REFUSED
    return 0


def register(app: typer.Typer) -> None:
    @app.command()
    def cancel(
        deployment_id: Annotated[str, typer.Argument(metavar="ID", help="The deployment's id.")],
        idempotency_key: Annotated[str | None, KeyOption] = None,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Cancel a running deployment: it stops at its next step and its new colour is removed."""
        check_format(fmt)
        raise typer.Exit(
            run(
                _act(
                    f"cancel {deployment_id}",
                    fmt,
                    lambda fd: fd.cancel(deployment_id, idempotency_key=idempotency_key),
                )
            )
        )

    @app.command()
    def rollback(
        app_name: Annotated[str, typer.Argument(metavar="APP", help="The app's name.")],
        idempotency_key: Annotated[str | None, KeyOption] = None,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Switch APP's traffic back to its previous colour (or redeploy its previous image)."""
        check_format(fmt)
        raise typer.Exit(
            run(
                _act(
                    f"rollback {app_name}",
                    fmt,
                    lambda fd: fd.rollback(app_name, idempotency_key=idempotency_key),
                )
            )
        )

    @app.command()
    def scale(
        app_name: Annotated[str, typer.Argument(metavar="APP", help="The app's name.")],
        replicas: Annotated[int, typer.Argument(help="The live colour's replicas, 0–50.")],
        idempotency_key: Annotated[str | None, KeyOption] = None,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Scale APP's live colour to REPLICAS pods."""
        check_format(fmt)
        if not 0 <= replicas <= MAX_REPLICAS:
            raise fail(f"REPLICAS must be 0–{MAX_REPLICAS}, not {replicas}", EXIT_USAGE)
        raise typer.Exit(
            run(
                _act(
                    f"scale {app_name} to {replicas}",
                    fmt,
                    lambda fd: fd.scale(app_name, replicas, idempotency_key=idempotency_key),
                )
            )
        )

    @app.command()
    def restart(
        app_name: Annotated[str, typer.Argument(metavar="APP", help="The app's name.")],
        pod: Annotated[
            str | None, typer.Option("--pod", "-p", help="Only this pod (deleted and replaced).")
        ] = None,
        idempotency_key: Annotated[str | None, KeyOption] = None,
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Restart APP's live colour (a rollout restart), or one pod of it with --pod."""
        check_format(fmt)
        what = f"restart pod {pod} of {app_name}" if pod else f"restart {app_name}"
        raise typer.Exit(
            run(
                _act(
                    what,
                    fmt,
                    lambda fd: fd.restart(app_name, pod=pod, idempotency_key=idempotency_key),
                )
            )
        )
