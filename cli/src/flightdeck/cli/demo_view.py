"""What the demo shows while a deployment runs: stages, pods, log lines, the result.

Pure state: it is fed the gateway's SSE events (and log lines) and renders a
rich table; no I/O here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

STAGES = ("artifact", "apply", "rollout", "expose", "verify", "switch", "complete")
_ICONS = {
    "PENDING": "[dim]·[/]",
    "RUNNING": "[yellow]⟳[/]",
    "SUCCEEDED": "[green]✔[/]",
    "FAILED": "[red]✗[/]",
    "CANCELLED": "[red]⊘[/]",
}


def outcome(detail: dict[str, Any]) -> str:
    """What a succeeded stage found, from its event's detail ("" when nothing to say)."""
    if digest := detail.get("digest"):
        return f"image found ({digest[:19]}…)"
    if url := detail.get("url"):
        return f"reachable at {url}"
    if "available" in detail and "replicas" in detail:
        return f"{detail['available']}/{detail['replicas']} replicas available"
    if objects := detail.get("objects"):
        return f"{objects} objects applied"
    return ""


@dataclass
class DemoView:
    deployment_id: str
    app: str
    image: str
    stages: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {s: {"status": "PENDING", "message": ""} for s in STAGES}
    )
    progress: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=4))
    result: dict[str, Any] | None = None
    failed: dict[str, Any] | None = None

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """One SSE event from ``/api/v1/deploy/{id}/events``."""
        if kind == "stage":
            stage = self.stages.get(data.get("stage", ""))
            if stage is not None:
                status = data.get("status", "RUNNING")
                if not (stage["status"] in ("SUCCEEDED", "FAILED") and status == "RUNNING"):
                    stage["status"] = status
                message = data.get("message") or ""
                if status == "SUCCEEDED":
                    message = outcome(data.get("detail") or {}) or stage["message"]
                if status == "FAILED" or not (message.endswith((" started", " succeeded"))):
                    stage["message"] = message  # keep what happened, not the bookkeeping
            if data.get("message"):
                self.progress.append(f"{data.get('stage', '')}: {data['message']}")
        elif kind == "done":
            self.result = data
            took = (data.get("totalDurationMs") or 0) / 1000
            self.stages["complete"] = {"status": "SUCCEEDED", "message": f"done in {took:.1f} s"}
        elif kind == "error":
            self.failed = data

    def on_log(self, line: dict[str, Any]) -> None:
        self.logs.append(
            f"{line.get('pod', '')} {line.get('level', ''):<5} {line.get('text', '')}"[:140]
        )

    @property
    def finished(self) -> bool:
        return self.result is not None or self.failed is not None

    def render(self) -> RenderableType:
        table = Table(
            title=f"deploying {self.image} as {self.app}  ({self.deployment_id})",
            title_justify="left",
            expand=False,
        )
        table.add_column("")
        table.add_column("stage")
        table.add_column("latest")
        for name, stage in self.stages.items():
            table.add_row(_ICONS.get(stage["status"], "?"), name, Text(stage["message"][:90]))
        parts: list[RenderableType] = [table]
        if self.progress:
            parts.append(Text("recent: " + " | ".join(list(self.progress)[-3:]), style="dim"))
        if self.logs:
            parts.append(Text("pod logs:\n  " + "\n  ".join(self.logs), style="cyan"))
        return Group(*parts)
