"""The gateway process, started as ``flightdeck-gateway``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("gateway")
