"""How the CLI talks to its user: one console, one shape of error."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise.

    Never wrapped (``soft_wrap``): a log or a script reading stderr gets the
    message on one line whatever the terminal's width.
    """
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
