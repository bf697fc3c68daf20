"""Server factory shared by every service: interceptors, health, reflection, metrics, shutdown.

``create_server`` builds an unstarted server (tests bind port 0 and read ``handle.port``);
``serve`` is what a service's ``main()`` calls: metrics endpoint, start, SIGTERM handling, block.

Shutdown: health turns NOT_SERVING first (so load balancers stop sending), in-flight calls get the
grace period to finish, then background workers registered in ``on_stop`` are stopped.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from services.shared.config import CommonSettings
from services.shared.interceptors import (
    AuthInterceptor,
    ErrorMappingInterceptor,
    MetricsInterceptor,
    Principal,
    RequestContextInterceptor,
)

log = structlog.get_logger("chiso.server")


@dataclass
class ServerHandle:
    name: str
    server: grpc.Server
    health: health.HealthServicer
    service_names: list[str]
    port: int
    host: str
    metrics_port: int | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    on_start: list[Callable[[], None]] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _stop_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "[::]", "") else self.host
        return f"{host}:{self.port}"

    def start(self) -> None:
        self.server.start()
        for fn in self.on_start:
            fn()
        for name in ["", *self.service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float | None = None) -> None:
        with self._stop_lock:
            if self._stopped.is_set():
                return
            for name in ["", *self.service_names]:
                self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
            self.server.stop(grace).wait()
            for fn in reversed(self.on_stop):
                try:
                    fn()
                except Exception:  # noqa: BLE001 - keep stopping the rest
                    log.exception("error while stopping", step=getattr(fn, "__name__", str(fn)))
            self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)


def create_server(
    *,
    name: str,
    settings: CommonSettings,
    services: Sequence[tuple[Callable, object, str]],
    authenticate: Callable[[str, Mapping[str, str]], Principal | None] | None = None,
    public_methods: Sequence[str] = (),
    interceptors: Sequence[grpc.ServerInterceptor] = (),
) -> ServerHandle:
    """Build a server for ``services`` = [(add_XServicer_to_server, servicer, full service name)]."""
    chain: list[grpc.ServerInterceptor] = [
        RequestContextInterceptor(),
        MetricsInterceptor(name),
        ErrorMappingInterceptor(),
    ]
    if authenticate is not None:
        chain.append(AuthInterceptor(authenticate, frozenset(public_methods)))
    chain.extend(interceptors)
    server = grpc.server(
        ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix=f"{name}-rpc"),
        interceptors=chain,
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    names = []
    for add, servicer, service_name in services:
        add(servicer, server)
        names.append(service_name)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for n in ["", *names]:
        health_servicer.set(n, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    if port == 0:
        raise OSError(f"cannot bind {settings.host}:{settings.port}")
    return ServerHandle(name=name, server=server, health=health_servicer, service_names=names, port=port,
                        host=settings.host)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(handle: ServerHandle, settings: CommonSettings) -> None:
    """Run until SIGTERM/SIGINT: metrics endpoint, start, log where to look, drain on signal."""
    if settings.metrics_port >= 0:
        port = settings.metrics_port or _free_port(settings.host)
        start_http_server(port, addr=settings.host)
        handle.metrics_port = port
    handle.start()
    log.info("listening", service=handle.name, address=handle.address, metrics_port=handle.metrics_port)

    def on_signal(signum, _frame):
        log.info("stopping", signal=signal.Signals(signum).name, grace_seconds=settings.grace_seconds)
        threading.Thread(target=handle.stop, args=(settings.grace_seconds,), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    handle.wait()
    log.info("stopped", service=handle.name)
