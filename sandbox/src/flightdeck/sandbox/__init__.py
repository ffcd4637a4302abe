"""Flightdeck sandbox: a Kubernetes API server that speaks the real protocol, and AWS via moto.

async with Sandbox(state_dir, config=SandboxConfig(speed=20)) as sb:
    sb.k8s_url, sb.kubeconfig, sb.aws_endpoint, sb.ingress_url
    await sb.push_image("web", "v2", delay_s=3)
    await sb.faults.drop_watches()
"""

from flightdeck.sandbox.config import Markers, Ports, SandboxConfig, Timings
from flightdeck.sandbox.process import Sandbox, SandboxError, SandboxFaults

__all__ = [
    "Markers",
    "Ports",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxFaults",
    "Timings",
]
