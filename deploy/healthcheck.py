#!/usr/bin/env python3
"""chiso-healthcheck — exit 0 when a chiso server answers SERVING to ``grpc.health.v1.Health/Check``.

    chiso-healthcheck [ADDRESS] [--service NAME] [--timeout SECONDS]
    chiso-healthcheck http://HOST:PORT/PATH [--timeout SECONDS]

ADDRESS is host:port (default 127.0.0.1:50051). NAME is a full service name, e.g.
``chiso.ingest.v1.IngestService`` (default: the empty name, the server as a whole). Every chiso
server registers both, NOT_SERVING until it has started (migrations, background workers) and again
from the first SIGTERM (drain), SERVING in between. Exit status: 0 SERVING, 1 anything else
(NOT_SERVING, unknown service, unreachable, timeout) — what Docker and Compose health checks expect.
An ``http://`` address checks an HTTP server instead (the dashboard, ``chiso-web``: ``/healthz``):
0 when it answers 200.

Installed in the image as ``/opt/chiso/bin/chiso-healthcheck`` (see deploy/Dockerfile); Kubernetes
uses its native gRPC probes instead (deploy/k8s/).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str = "", timeout: float = 3.0) -> tuple[bool, str]:
    """(serving, what was seen) for ``service`` at ``address``."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            return False, getattr(code, "name", "UNKNOWN")
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, status


def check_http(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(answered 200, what was seen) for an HTTP health endpoint."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - http:// only, checked by main
            return reply.status == 200, f"HTTP {reply.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chiso-healthcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("address", nargs="?", default="127.0.0.1:50051", help="host:port (default %(default)s)")
    parser.add_argument("--service", default="", help="full service name (default: the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default %(default)s)")
    args = parser.parse_args(argv)
    if args.address.startswith("http://"):
        ok, seen = check_http(args.address, args.timeout)
    else:
        ok, seen = check(args.address, args.service, args.timeout)
    if not ok:
        print(f"chiso-healthcheck: {args.address} {args.service or '(server)'}: {seen}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
