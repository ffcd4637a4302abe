"""``python -m flightdeck.sandbox``: run the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

import msgspec

from flightdeck.sandbox.config import Ports, SandboxConfig
from flightdeck.sandbox.server import serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flightdeck.sandbox",
        description="A Kubernetes API server that speaks the real protocol (simulated cluster), "
        "an ingress port that answers as the pods would, and moto for ECR/STS.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".flightdeck/sandbox"),
        help="where the kubeconfig and ready file go (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per real second (default 1: human-visible)",
    )
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--k8s-port", type=int, default=None, help="Kubernetes API port (default: free port)"
    )
    parser.add_argument(
        "--ingress-port", type=int, default=None, help="ingress port (default: free port)"
    )
    parser.add_argument("--aws-port", type=int, default=None, help="moto port (default: free port)")
    parser.add_argument(
        "--config-json",
        default=None,
        help="a full SandboxConfig as JSON (the flags above override it)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the URLs as JSON here once every port answers",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the URLs")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> SandboxConfig:
    config = SandboxConfig.from_json(args.config_json) if args.config_json else SandboxConfig()
    ports = Ports(
        k8s=args.k8s_port if args.k8s_port is not None else config.ports.k8s,
        ingress=args.ingress_port if args.ingress_port is not None else config.ports.ingress,
        aws=args.aws_port if args.aws_port is not None else config.ports.aws,
    )
    changes: dict[str, object] = {"ports": ports}
    if args.speed is not None:
        changes["speed"] = args.speed
    if args.host is not None:
        changes["host"] = args.host
    return msgspec.structs.replace(config, **changes)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(config_from(args), args.state_dir, args.ready_file, announce=not args.quiet)
        )


if __name__ == "__main__":
    main()
