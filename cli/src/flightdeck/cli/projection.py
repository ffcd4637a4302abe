"""``flightdeck projection run|rebuild``: the read model's projector, alone."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console
from flightdeck.readmodel.database import open_database
from flightdeck.readmodel.projector import PROJECTED, Projector, rebuild
from flightdeck.runtime import eventloop
from flightdeck.runtime.nats_permissions import CLI
from flightdeck.runtime.service import ServiceContext, run

projection = typer.Typer(help="The SQL read model: run its projector, or rebuild it.")


async def _rebuild() -> None:
    settings = settings_or_exit()
    async with event_store(settings, user=CLI, report_undecodable=True) as store:
        database = await open_database(settings.read_model_url)
        try:
            total = 0
            for stream in PROJECTED:
                total += (await store.stream_state(stream)).messages
            columns = (
                TextColumn("rebuilding the read model"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("events"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=console) as bar:
                task = bar.add_task("rebuild", total=total)
                applied, seconds = await rebuild(
                    store, database, progress=lambda n: bar.advance(task, n)
                )
        finally:
            await database.close()
    rate = applied / seconds if seconds else 0.0
    console.print(
        f"[green]✔[/] rebuilt from sequence 1: {applied:,} events in {seconds:.2f}s "
        f"([bold]{rate:,.0f} events/s[/]) into {settings.read_model_url}"
    )


@projection.command("rebuild")
def rebuild_command() -> None:
    """Drop the read model and replay every stream from sequence 1."""
    eventloop.run(_rebuild())


async def _project(ctx: ServiceContext) -> None:
    database = await open_database(ctx.settings.read_model_url)
    try:
        await Projector(ctx.store, database).run()
    finally:
        await database.close()


@projection.command("run")
def run_command() -> None:
    """Run the projector as its own process until SIGTERM/Ctrl-C."""
    run("projector", _project)


def register(app: typer.Typer) -> None:
    app.add_typer(projection, name="projection")
