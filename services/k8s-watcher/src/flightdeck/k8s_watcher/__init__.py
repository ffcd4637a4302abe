"""Flightdeck k8s-watcher: Watches the cluster and publishes what changed."""
