"""Flightdeck orchestrator: Runs each deployment's pipeline as a pure fold over its events."""
