"""Bounded work for streaming calls (OWASP API4): a few idle clients must not take a service down.

A sync gRPC server runs every call on a worker thread for as long as the call lasts, and a stream
lasts as long as its client wants: 16 idle ``StreamSync`` calls used to hold all 16 workers, so
health checks and every other caller timed out. Here:

- Streaming calls (a request stream, a response stream or both — also health ``Watch`` and
  reflection) run on a pool of their own, so unary calls keep ``max_workers`` threads; health
  ``Check`` has two threads of its own besides.
- At most ``max_streams`` streams run at once; each caller (the authenticated principal, or for
  callers without a credential the peer's address) at most ``max_streams_per_caller``; callers
  without a credential together at most ``max_anonymous_streams``. A stream past a limit is
  refused at once with RESOURCE_EXHAUSTED (reason ``TOO_MANY_STREAMS``, the limit in ErrorInfo).
- A stream that has waited on its client for ``stream_idle_seconds`` — for its next request
  message, or for it to take the last response (flow control) — is ended with RESOURCE_EXHAUSTED
  "stream idle". Waiting on the service's own work (a change feed with nothing new) is not idle.

The limits bound memory too: what a stream holds (a page of changes) is held by at most
``max_streams`` streams.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from prometheus_client import Counter, Gauge

from services.shared.errors import ResourceExhausted
from services.shared.interceptors import Behaviour, current_principal, rebuild_handler
from services.shared.logging import get_logger

__all__ = ["HEALTH_CHECK", "StreamLimitInterceptor", "StreamLimits", "caller_key"]

log = get_logger("chiso.limits")

STREAMS = Gauge("chiso_grpc_streams_open", "Streaming calls being served", ["service"])
REFUSED = Counter("chiso_grpc_streams_refused", "Streaming calls refused or ended by a limit",
                  ["service", "limit"])

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_SPARE_THREADS = 4  # beyond max_streams: refusals are answered at once even when every slot is taken
_ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class StreamLimits:
    max_streams: int = 16
    per_caller: int = 4
    anonymous: int = 8
    idle_seconds: float = 60.0


def caller_key(context: grpc.ServicerContext) -> tuple[str, bool]:
    """(who, anonymous): the principal's id, or the peer's address without its port."""
    principal = current_principal()
    if principal is not None:
        return f"{principal.kind}:{principal.id}", False
    peer = context.peer() or "unknown"
    host = peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer  # "ipv4:127.0.0.1:53412"
    return f"peer:{host}", True


class _Ticket:
    """One admitted stream: whether (and since when) it waits on its client."""

    __slots__ = ("anonymous", "context", "ended", "key", "method", "waiting_since")

    def __init__(self, key: str, anonymous: bool, method: str, context: grpc.ServicerContext) -> None:
        self.key = key
        self.anonymous = anonymous
        self.method = method
        self.context = context
        self.waiting_since: float | None = None
        self.ended = False


def _end_call(context: grpc.ServicerContext, details: str) -> None:
    """End a call from another thread with RESOURCE_EXHAUSTED and ``details`` (gRPC's sync server has
    no public way to send a status from outside the handler; cancel does not say why)."""
    try:
        from grpc._cython import cygrpc

        context._rpc_event.call.cancel(cygrpc.StatusCode.resource_exhausted, details)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a gRPC without these internals: cancel plainly
        context.cancel()


class StreamLimitInterceptor(grpc.ServerInterceptor):
    """See the module doc. Sits after authentication (it needs the principal). ``close`` stops the
    stream pool and the idle watchdog."""

    def __init__(self, service: str, limits: StreamLimits) -> None:
        self.service = service
        self.limits = limits
        self.pool = ThreadPoolExecutor(max_workers=limits.max_streams + _SPARE_THREADS,
                                       thread_name_prefix=f"{service}-stream")
        self.health_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{service}-health")
        self._lock = threading.Lock()
        self._open: set[_Ticket] = set()
        self._by_caller: collections.Counter[str] = collections.Counter()
        self._anonymous = 0
        self._watchdog: threading.Thread | None = None
        self._closed = threading.Event()
        self._gauge = STREAMS.labels(service)

    def close(self) -> None:
        self._closed.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.health_pool.shutdown(wait=False, cancel_futures=True)

    # --- handler rewriting --------------------------------------------------------------------

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if method == HEALTH_CHECK:
            def on_health_pool(behaviour: Behaviour, _streaming: bool) -> Behaviour:
                def run(request: Any, context: grpc.ServicerContext) -> Any:
                    return behaviour(request, context)

                run.experimental_thread_pool = self.health_pool  # type: ignore[attr-defined]
                return run

            return rebuild_handler(handler, on_health_pool)
        if not (handler.request_streaming or handler.response_streaming):
            return handler
        request_streaming = handler.request_streaming

        def wrap(behaviour: Behaviour, response_streaming: bool) -> Behaviour:
            if response_streaming:
                def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                    ticket = self._admit(method, context)
                    try:
                        if request_streaming:
                            request = self._watch_requests(request, ticket)
                        for response in behaviour(request, context):
                            ticket.waiting_since = time.monotonic()  # until the client has taken it
                            yield response
                            ticket.waiting_since = None
                    finally:
                        self._release(ticket)
            else:
                def run(request: Any, context: grpc.ServicerContext) -> Any:  # type: ignore[misc]
                    ticket = self._admit(method, context)
                    try:
                        return behaviour(self._watch_requests(request, ticket), context)
                    finally:
                        self._release(ticket)

            run.experimental_thread_pool = self.pool  # type: ignore[attr-defined]
            return run

        return rebuild_handler(handler, wrap)

    @staticmethod
    def _watch_requests(requests: Iterator[Any], ticket: _Ticket) -> Iterator[Any]:
        while True:
            ticket.waiting_since = time.monotonic()
            try:
                request = next(requests)
            except StopIteration:
                return
            finally:
                ticket.waiting_since = None
            yield request

    # --- admission ----------------------------------------------------------------------------

    def _refuse(self, limit: str, value: int, message: str) -> ResourceExhausted:
        REFUSED.labels(self.service, limit).inc()
        return ResourceExhausted(message, reason="TOO_MANY_STREAMS", metadata={"limit": limit, "max": value})

    def _admit(self, method: str, context: grpc.ServicerContext) -> _Ticket:
        key, anonymous = caller_key(context)
        limits = self.limits
        with self._lock:
            if len(self._open) >= limits.max_streams:
                raise self._refuse("server", limits.max_streams,
                                   f"this server runs {limits.max_streams} streams at most; retry later")
            if self._by_caller[key] >= limits.per_caller:
                raise self._refuse("caller", limits.per_caller,
                                   f"{limits.per_caller} streams at once per caller; close one first")
            if anonymous and self._anonymous >= limits.anonymous:
                raise self._refuse("anonymous", limits.anonymous,
                                   f"{limits.anonymous} streams at once for callers without a credential")
            ticket = _Ticket(key, anonymous, method, context)
            self._open.add(ticket)
            self._by_caller[key] += 1
            self._anonymous += anonymous
            self._gauge.inc()
            if self._watchdog is None or not self._watchdog.is_alive():
                self._watchdog = threading.Thread(target=self._watch, name=f"{self.service}-stream-idle",
                                                  daemon=True)
                self._watchdog.start()
        return ticket

    def _release(self, ticket: _Ticket) -> None:
        with self._lock:
            if ticket.ended:
                return
            ticket.ended = True
            self._open.discard(ticket)
            self._by_caller[ticket.key] -= 1
            if self._by_caller[ticket.key] <= 0:
                del self._by_caller[ticket.key]
            self._anonymous -= ticket.anonymous
            self._gauge.dec()

    # --- idle streams ---------------------------------------------------------------------------

    def _watch(self) -> None:
        """Ends streams idle for ``idle_seconds``; runs while any stream is open."""
        idle = self.limits.idle_seconds
        tick = min(1.0, max(idle / 4, 0.05))
        while not self._closed.wait(tick):
            now = time.monotonic()
            with self._lock:
                if not self._open:
                    self._watchdog = None
                    return
                stale = [t for t in self._open if t.waiting_since is not None and now - t.waiting_since > idle]
            for ticket in stale:
                REFUSED.labels(self.service, "idle").inc()
                log.info("idle stream ended", method=ticket.method, caller=ticket.key, idle_seconds=idle)
                ticket.waiting_since = None
                _end_call(ticket.context, f"stream idle for {idle:g} s (waiting on the client); reconnect when ready")
