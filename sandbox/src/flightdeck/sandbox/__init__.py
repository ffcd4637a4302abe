"""Flightdeck sandbox: a Kubernetes API server that speaks the real protocol, and AWS via moto."""
