"""The kubeconfig file clients point at to reach the sandbox, like any cluster's."""

from __future__ import annotations

from pathlib import Path

import yaml

from flightdeck.runtime.privatefiles import replace_private

NAME = "flightdeck-sandbox"


def render(server_url: str, namespace: str = "default") -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": NAME, "cluster": {"server": server_url}}],
        "users": [{"name": NAME, "user": {"token": "flightdeck-sandbox"}}],
        "contexts": [
            {"name": NAME, "context": {"cluster": NAME, "user": NAME, "namespace": namespace}}
        ],
        "current-context": NAME,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, server_url: str) -> Path:
    """Write atomically (a reader never sees half a file) and owner-only from the start:
    a kubeconfig holds the credentials to a cluster."""
    return replace_private(path, render(server_url).encode())
