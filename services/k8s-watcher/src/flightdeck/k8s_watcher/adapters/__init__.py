"""The watcher's I/O: the Kubernetes API, the event store, the NATS KV lease."""
