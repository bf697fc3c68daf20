"""Starting services as separate processes and waiting until they serve — for the demo, the
benchmarks and the tests that kill and restart services."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
MALLOC_ARENA_MAX = "2"


def free_port(preferred: int = 0, host: str = "127.0.0.1") -> int:
    """``preferred`` if it is free, else any free port."""
    with socket.socket() as s:
        try:
            s.bind((host, preferred))
        except OSError:
            s.bind((host, 0))
        return s.getsockname()[1]


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a service process: this one's, this checkout importable, glibc's malloc
    arenas capped (as the image does; see ``MALLOC_ARENA_MAX`` in deploy/Dockerfile) unless set, then
    ``env``."""
    return {"MALLOC_ARENA_MAX": MALLOC_ARENA_MAX, **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")]), **env}


def spawn(
    module: str, env: dict[str, str], output: IO | int | None = subprocess.DEVNULL, args: Sequence[str] = (),
    *, own_session: bool = False,
) -> subprocess.Popen:
    """``python -m module [args]`` with this checkout importable and ``env`` added to the environment.

    ``own_session``: start it in a session (and process group) of its own, so that a terminal's
    Ctrl-C reaches only the caller, which then stops it with one SIGTERM (a service drains on the
    first signal and stops at once on a second). The caller must then stop it: it outlives a caller
    that is killed."""
    full = child_env(env)
    return subprocess.Popen([sys.executable, "-m", module, *args], env=full, cwd=ROOT, stdout=output,
                            stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else subprocess.DEVNULL,
                            start_new_session=own_session)


def wait_healthy(address: str, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Block until the gRPC health service at ``address`` says SERVING."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the service at {address} exited with code {proc.returncode}")
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not become healthy within {timeout:.0f} s")
