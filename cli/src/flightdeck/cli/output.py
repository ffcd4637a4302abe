"""How the CLI talks to its user: one console, one shape of error."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)
