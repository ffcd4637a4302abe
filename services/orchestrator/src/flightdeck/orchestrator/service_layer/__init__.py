"""What the entry points call: the handlers of each message and the pipeline they drive."""
