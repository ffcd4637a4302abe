"""The prober process, started as ``flightdeck-prober``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("prober")
