"""The simulated control plane: deployment, replica set, endpoints and ingress controllers, and the kubelet."""
