"""Server factory shared by every service: interceptors, health, reflection, metrics, shutdown.

``create_server`` builds an unstarted server bound to ``settings.host:settings.port`` (tests use port
0 and read ``handle.port`` / ``handle.address``); ``serve`` is what a service's ``main()`` calls:
metrics endpoint, start, SIGTERM/SIGINT handling, block until stopped.

Health follows the database (``ServerHandle.watch_database``): while a service cannot reach it, its
named services (``chiso.ingest.v1.IngestService`` …, what readiness probes ask) are NOT_SERVING, so
Kubernetes stops routing to a replica that cannot work; the server's overall health (``""``, what
liveness probes ask) stays SERVING, since restarting the process would not bring the database back.
The gauge ``chiso_database_up{service}`` says the same to Prometheus.

Shutdown (``ServerHandle.stop``): health turns NOT_SERVING first, so load balancers and probes stop
sending; in-flight calls get the grace period to finish; then the ``on_stop`` callbacks (background
workers, connection pools) run, last registered first. A second SIGTERM cuts the grace short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import FrameType, TracebackType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import Gauge, start_http_server

from services.shared.config import CommonSettings
from services.shared.interceptors import (
    AuthInterceptor,
    ErrorMappingInterceptor,
    MalformedRequestInterceptor,
    MetricsInterceptor,
    Principal,
    RequestContextInterceptor,
    remaining,
)
from services.shared.limits import StreamLimitInterceptor, StreamLimits
from services.shared.logging import get_logger
from services.shared.reflection import enable_reflection

__all__ = ["ServerHandle", "ServiceSpec", "create_server", "remaining", "serve"]

log = get_logger("chiso.server")

ServiceSpec = tuple[Callable[[Any, grpc.Server], None], object, str]
"""(``add_XServicer_to_server``, servicer, full service name such as ``chiso.ingest.v1.IngestService``)."""

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
DATABASE_UP = Gauge("chiso_database_up", "1 while the service reaches its database, 0 while it cannot", ["service"])
DATABASE_CHECK_SECONDS = 2.0
"""How often ``watch_database`` asks the database."""
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - a set to compare with, not a bind


def _host_port(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):  # bare IPv6 address
        host = f"[{host}]"
    return f"{host}:{port}"


class ServerHandle:
    """A built server and what it needs to run and stop cleanly; see the module doc."""

    def __init__(
        self,
        *,
        name: str,
        server: grpc.Server,
        health: health.HealthServicer,
        service_names: Sequence[str],
        port: int,
        host: str,
    ) -> None:
        self.name = name
        self.server = server
        self.health = health
        self.service_names = list(service_names)
        self.port = port
        self.host = host
        self.metrics_port: int | None = None
        """Port of the Prometheus endpoint once ``serve`` has started it."""
        self.on_start: list[Callable[[], None]] = []
        """Run after the server starts, before health turns SERVING."""
        self.on_stop: list[Callable[[], None]] = []
        """Run after in-flight calls have finished, last registered first."""
        self._lock = threading.Lock()
        self._stopping = False
        self._started = False
        self._database_up = True
        self._stopped = threading.Event()

    @property
    def address(self) -> str:
        """Where a client on this machine reaches the server, e.g. ``127.0.0.1:50051``."""
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        return _host_port(host, self.port)

    def _refresh_health(self) -> None:
        """SERVING once started (named services: while the database is reachable too); nothing once
        stopping has begun (the shutdown turned everything NOT_SERVING)."""
        with self._lock:
            if self._stopping or not self._started:
                return
            serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
            self.health.set("", serving)
            for service in self.service_names:
                self.health.set(service, serving if self._database_up else not_serving)

    def watch_database(self, ping: Callable[[], None], interval: float | None = None) -> None:
        """Follow the database with ``ping`` (raises when unreachable) every ``interval`` s (default
        ``DATABASE_CHECK_SECONDS``), from start to stop: health and ``chiso_database_up`` as in the
        module doc; each change is logged."""
        interval = DATABASE_CHECK_SECONDS if interval is None else interval
        stop = threading.Event()
        gauge = DATABASE_UP.labels(self.name)

        def check() -> None:
            try:
                ping()
                up, cause = True, ""
            except Exception as exc:  # noqa: BLE001 — any failure means "cannot work"
                up, cause = False, type(getattr(exc, "orig", None) or exc).__name__
            gauge.set(int(up))
            if up != self._database_up:
                self._database_up = up
                if up:
                    log.info("database reachable again; serving", service=self.name)
                else:
                    log.warning("database unreachable; not serving until it is back", service=self.name, error=cause)
                self._refresh_health()

        def loop() -> None:
            while not stop.wait(interval):
                check()

        thread = threading.Thread(target=loop, name=f"{self.name}-db-health", daemon=True)

        def begin() -> None:
            check()  # before health first turns SERVING
            thread.start()

        def end() -> None:
            stop.set()
            if thread.is_alive():
                thread.join(timeout=interval + 30)

        self.on_start.append(begin)
        self.on_stop.append(end)

    def start(self) -> None:
        """Start serving; health turns SERVING once the ``on_start`` callbacks are done.
        Does nothing once ``stop`` has been called."""
        with self._lock:
            if self._stopping:
                return
            self.server.start()
        for fn in self.on_start:
            fn()
        self._started = True
        self._refresh_health()

    def stop(self, grace: float | None = None) -> None:
        """Stop and wait: health NOT_SERVING, then ``grace`` seconds for in-flight calls (``None``:
        cancel them now), then ``on_stop``. Safe to call again or concurrently; a later call with a
        shorter grace shortens the drain."""
        with self._lock:
            first, self._stopping = not self._stopping, True
        if not first:
            self.server.stop(grace)
            self._stopped.wait()
            return
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        for fn in reversed(self.on_stop):
            try:
                fn()
            except Exception:  # keep stopping the rest
                log.exception("stop callback failed", callback=getattr(fn, "__qualname__", repr(fn)))
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop`` has completed (``True``) or ``timeout`` passed (``False``)."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> ServerHandle:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(None)


def create_server(
    *,
    name: str,
    settings: CommonSettings,
    services: Sequence[ServiceSpec],
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    authenticate: Callable[[str, Mapping[str, str]], Principal | None] | None = None,
    public_methods: Iterable[str] = (),
) -> ServerHandle:
    """Build (not start) a server for ``services``.

    Interceptors, outermost first: request context, metrics, error mapping, malformed requests
    (bytes that are not the request message: INVALID_ARGUMENT), authentication (when
    ``authenticate`` is given; ``public_methods`` skip it — see ``AuthInterceptor``), stream limits
    (streams on a pool of their own, capped per caller and overall, idle ones ended — see
    ``services.shared.limits``), then ``interceptors``. Health (per service name and ``""``) and
    reflection (v1 and v1alpha) are added. Raises ``OSError`` when the address cannot be bound.
    """
    chain: list[grpc.ServerInterceptor] = [
        RequestContextInterceptor(),
        MetricsInterceptor(name),
        ErrorMappingInterceptor(),
        MalformedRequestInterceptor(),
    ]
    if authenticate is not None:
        chain.append(AuthInterceptor(authenticate, public_methods))
    streams = StreamLimitInterceptor(name, StreamLimits(
        max_streams=settings.max_streams, per_caller=settings.max_streams_per_caller,
        anonymous=settings.max_anonymous_streams, idle_seconds=settings.stream_idle_seconds))
    chain.append(streams)
    chain.extend(interceptors)
    server = grpc.server(
        ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix=f"{name}-rpc"),
        interceptors=chain,
        options=[
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            ("grpc.so_reuseport", 0),  # a second process on the same port must fail, not share it
        ],
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    names = []
    for add, servicer, service_name in services:
        add(servicer, server)
        names.append(service_name)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in ("", *names):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    enable_reflection([*names, HEALTH_SERVICE], server)  # v1 and v1alpha

    address = _host_port(settings.host, settings.port)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {address}: {exc}") from exc
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    handle = ServerHandle(
        name=name, server=server, health=health_servicer, service_names=names, port=port, host=settings.host
    )
    handle.on_stop.append(streams.close)  # runs last
    return handle


def _start_metrics(handle: ServerHandle, settings: CommonSettings) -> None:
    if settings.metrics_port < 0:
        return
    httpd, _thread = start_http_server(settings.metrics_port, addr=settings.host)
    handle.metrics_port = httpd.server_port

    def stop_metrics() -> None:
        httpd.shutdown()
        httpd.server_close()

    handle.on_stop.insert(0, stop_metrics)  # runs last: metrics stay scrapeable while draining
    log.info("metrics endpoint", service=handle.name, metrics_port=handle.metrics_port)


def serve(handle: ServerHandle, settings: CommonSettings) -> None:
    """Run ``handle`` until SIGTERM/SIGINT (or ``handle.stop``): start the Prometheus endpoint on
    ``settings.metrics_port`` (0: any free port, -1: none), start, log where to look, then on the
    first signal drain for ``settings.grace_seconds``; a second signal stops at once. Signal
    handlers are installed only on the main thread, and restored on return."""
    signals: list[int] = []

    def stop(signum: int, grace: float) -> None:
        log.info("stopping", service=handle.name, signal=signal.Signals(signum).name, grace_seconds=grace)
        handle.stop(grace)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Runs on the main thread between two bytecodes, perhaps while it holds the log lock:
        # take no lock here (not even by logging), hand over to a thread.
        grace = 0.0 if signals else settings.grace_seconds
        signals.append(signum)
        threading.Thread(target=stop, args=(signum, grace), name=f"{handle.name}-stop", daemon=True).start()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # before starting: no unhandled window
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        _start_metrics(handle, settings)
        handle.start()
        log.info("listening", service=handle.name, address=handle.address, metrics_port=handle.metrics_port)
        # Wake up now and then: a signal the kernel gave to another thread (gRPC's pollers, workers) is
        # handled only when the main thread next runs Python code, which a wait without a timeout
        # would postpone until the process is killed.
        while not handle.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    log.info("stopped", service=handle.name)
