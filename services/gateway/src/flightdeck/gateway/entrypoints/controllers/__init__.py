"""HTTP controllers, grouped by context; one Controller per resource."""
