"""The poller's I/O: AWS ECR and the event store."""
