"""The orchestrator process, started as ``flightdeck-orchestrator``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("orchestrator")
