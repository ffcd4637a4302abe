"""The relay's I/O: pods/log, NATS KV, the log stream, the watcher's pod events."""
