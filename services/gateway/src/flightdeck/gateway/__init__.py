"""Flightdeck gateway: The HTTP face of Flightdeck: REST, SSE, WebSocket, dashboard."""
