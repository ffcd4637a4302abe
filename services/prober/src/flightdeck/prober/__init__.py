"""Flightdeck prober: Runs health checks for verification and uptime monitors."""
