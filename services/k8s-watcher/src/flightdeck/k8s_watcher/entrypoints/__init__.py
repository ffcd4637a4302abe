"""The process entry points of this service."""
