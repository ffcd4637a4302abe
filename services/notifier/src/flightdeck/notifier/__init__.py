"""Flightdeck notifier: tells a tenant's channels when an incident opens or resolves."""
