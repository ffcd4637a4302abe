"""What the watcher makes of Kubernetes objects, pure: raw JSON in, observation events out,
and whether an observation says anything new."""
