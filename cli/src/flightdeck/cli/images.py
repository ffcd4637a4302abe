"""``flightdeck image push NAME:TAG``: put a sample image into the sandbox's ECR.

The sandbox has no Docker registry to push layers to: its ECR is moto, and a
"push" leaves what a registry client would (a repository, a schema-2 manifest
under the tag), through the sandbox's admin API, so the ECR poller finds it
like any other. The running sandbox is found through the ready file
``flightdeck up`` leaves in the state dir; the image stays across restarts (the
sandbox keeps its state there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from flightdeck.cli.deploying import split_image
from flightdeck.cli.output import console, fail
from flightdeck.cli.remote import EXIT_USAGE, FormatOption, check_format
from flightdeck.runtime.settings import ConfigError, load_settings

# OCI distribution reference: lowercase path components joined by separators.
_REPOSITORY = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
NOT_RUNNING = "the sandbox is not running: start Flightdeck here first (`./dev up` or `./dev demo`)"


def sandbox_api(state: Path) -> str:
    """The running sandbox's Kubernetes API URL (its admin API lives there)."""
    try:
        info = json.loads((state / "sandbox" / "ready.json").read_text())
    except (OSError, ValueError):
        raise fail(NOT_RUNNING) from None
    return str(info["k8s_url"])


def push(state: Path, repository: str, tag: str) -> dict[str, Any]:
    url = sandbox_api(state)
    try:
        response = httpx.post(
            f"{url}/sandbox/v1/images", json={"repository": repository, "tag": tag}, timeout=30
        )
    except httpx.TransportError:
        raise fail(NOT_RUNNING) from None
    if response.status_code >= 400:
        raise fail(f"the sandbox refused the push: {response.status_code} {response.text.strip()}")
    answer: dict[str, Any] = response.json()
    return answer


def register(app: typer.Typer) -> None:
    image = typer.Typer(help="Images in the sandbox's registry (ECR).", no_args_is_help=True)

    @image.command("push")
    def push_command(
        name: Annotated[str, typer.Argument(metavar="NAME:TAG", help="e.g. shop:v1")],
        fmt: Annotated[str, FormatOption] = "table",
    ) -> None:
        """Push a sample image NAME:TAG to the sandbox's ECR, ready for `flightdeck deploy`."""
        check_format(fmt)
        repository, tag = split_image(name)
        if len(repository) > 255 or not _REPOSITORY.fullmatch(repository):
            raise fail(
                f"NAME must be an image name (lowercase letters, digits, . _ - and /), "
                f"not {repository!r}",
                EXIT_USAGE,
            )
        try:
            state = load_settings().state_dir
        except ConfigError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        answer = push(state, repository, tag)
        if fmt == "json":
            print(json.dumps(answer), flush=True)
            return
        console.print(
            f"[green]✔[/] pushed [bold]{repository}:{tag}[/] to the sandbox's ECR "
            f"({answer.get('digest', '')[:19]}…)",
            highlight=False,
        )
        console.print(
            f"  deploy it: flightdeck deploy {repository} --image {repository}:{tag} --wait",
            highlight=False,
            soft_wrap=True,
        )

    app.add_typer(image, name="image")
