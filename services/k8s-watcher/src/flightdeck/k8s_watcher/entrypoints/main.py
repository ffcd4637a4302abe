"""The k8s-watcher process, started as ``flightdeck-k8s-watcher``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("k8s-watcher")
