"""The prober's I/O: HTTP (httpx) and the event store."""
